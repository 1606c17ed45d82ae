package dev.certknock.server.firewall.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.firewall.iptables.IptablesRenderer.Family;
import dev.certknock.server.firewall.iptables.IptablesRenderer.SetEntry;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Golden-file tests: the files under test resources are what the real tools were checked with. */
class IptablesRendererTest {

    private static final X500Principal ISSUER = new X500Principal("CN=test CA");
    private static final IptablesSettings SETTINGS = IptablesSettings.of(62201,
            List.of(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8100")));

    private static String golden(String name) throws IOException {
        try (InputStream in = IptablesRendererTest.class.getResourceAsStream(name + ".golden")) {
            assertThat(in).as("golden file %s.golden", name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static List<SetEntry> entries() throws IOException {
        return List.of(SetEntry.of(InetAddress.getByName("192.0.2.1"), PortGrant.parse("tcp/22")),
                SetEntry.of(InetAddress.getByName("192.0.2.1"), PortGrant.parse("udp/8000-8100")),
                SetEntry.of(InetAddress.getByName("2001:db8:0:0::1"), PortGrant.parse("tcp/22")));
    }

    @Test
    void sets() throws IOException {
        assertThat(new IptablesRenderer(SETTINGS).createSets()).isEqualTo(golden("sets"));
    }

    @Test
    void ipv4OnlyCreatesOneSet() {
        assertThat(new IptablesRenderer(SETTINGS.withIpv6(false)).createSets())
                .isEqualTo("create certknock4 hash:ip,port family inet maxelem 65536 timeout 0 comment -exist\n");
        assertThat(new IptablesRenderer(SETTINGS.withIpv6(false)).families()).containsExactly(Family.V4);
    }

    @ParameterizedTest
    @CsvSource({"V4,false,chain-v4-drop", "V6,false,chain-v6-drop", "V4,true,chain-v4-reject",
            "V6,true,chain-v6-reject"})
    void chain(Family family, boolean reject, String file) throws IOException {
        assertThat(new IptablesRenderer(SETTINGS.withReject(reject)).chain(family)).isEqualTo(golden(file));
    }

    @Test
    void addAndDelete() throws IOException {
        IptablesRenderer r = new IptablesRenderer(SETTINGS);
        String comment = "ck1 19a266fa010ca53f 0123456789abcdef";
        assertThat(r.add(entries(), 30, comment)).isEqualTo(golden("add"));
        assertThat(r.delete(entries())).isEqualTo(golden("delete"));
    }

    @Test
    void addRefusesTimeoutsIpsetCannotHoldAndForeignComments() throws IOException {
        IptablesRenderer r = new IptablesRenderer(SETTINGS);
        String comment = "ck1 19a266fa010ca53f";
        assertThatThrownBy(() -> r.add(entries(), 0, comment)).hasMessageContaining("not 0");
        assertThatThrownBy(() -> r.add(entries(), IptablesRenderer.MAX_TIMEOUT_SECONDS + 1, comment))
                .hasMessageContaining("2147483");
        assertThatThrownBy(() -> r.add(entries(), 5, "ck1 x\" -exist\nflush certknock4"))
                .hasMessageContaining("not a certknock element comment");
    }

    @Test
    void teardownAndFlush() {
        IptablesRenderer r = new IptablesRenderer(SETTINGS);
        assertThat(r.removeChain()).isEqualTo("*filter\n:CERTKNOCK - [0:0]\n-X CERTKNOCK\nCOMMIT\n");
        assertThat(r.flushSets()).isEqualTo("flush certknock4\nflush certknock6\n");
        assertThat(r.destroySets()).isEqualTo("destroy certknock4\ndestroy certknock6\n");
    }

    @Test
    void commands() {
        assertThat(IptablesRenderer.ipsetRestore()).containsExactly("ipset", "restore");
        assertThat(IptablesRenderer.ipsetSave(Family.V6)).containsExactly("ipset", "save", "certknock6");
        assertThat(IptablesRenderer.tablesRestore(Family.V6)).containsExactly("ip6tables-restore", "-w", "--noflush");
        assertThat(IptablesRenderer.checkJump(Family.V4)).containsExactly("iptables", "-w", "-C", "INPUT", "-j",
                "CERTKNOCK");
        assertThat(IptablesRenderer.insertJump(Family.V4)).containsExactly("iptables", "-w", "-I", "INPUT", "1", "-j",
                "CERTKNOCK");
        assertThat(IptablesRenderer.deleteJump(Family.V6)).containsExactly("ip6tables", "-w", "-D", "INPUT", "-j",
                "CERTKNOCK");
    }

    @Test
    void setEntryRejectsAnInvalidRange() throws IOException {
        InetAddress a = InetAddress.getByName("192.0.2.1");
        assertThatThrownBy(() -> new SetEntry(a, dev.certknock.protocol.grant.Protocol.TCP, 10, 9))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
