package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every script the backend runs, compared with a golden file under test resources. */
class NftRendererTest {

    static final List<PortGrant> PROTECT = List.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/8000-8100"),
            PortGrant.parse("udp/51820"));

    static NftSettings settings(String table, boolean reject) {
        return new NftSettings(table, 62201, PROTECT, reject, List.of());
    }

    static String golden(String name) {
        try (InputStream in = NftRendererTest.class.getResourceAsStream(name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static NftElement element(String address, String ports) throws IOException {
        return new NftElement(InetAddress.getByName(address), PortGrant.parse(ports));
    }

    @Test
    void setupDropping() {
        assertThat(new NftRenderer("certknock").setup(settings("certknock", false))).isEqualTo(golden("setup-drop.nft"));
    }

    @Test
    void setupRejectingInAnotherTable() {
        assertThat(new NftRenderer("ck_test").setup(settings("ck_test", true))).isEqualTo(golden("setup-reject.nft"));
    }

    @Test
    void setupRefusesSettingsOfAnotherTable() {
        assertThatThrownBy(() -> new NftRenderer("certknock").setup(settings("other", false)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void addGroupsBySetWithTimeoutExpiresAndComment() throws IOException {
        String script = new NftRenderer("certknock").add(List.of(
                new NftEntry(element("198.51.100.7", "tcp/22"), Duration.ofSeconds(60), Duration.ofMillis(59_500),
                        "certknock s=1f i=0011223344556677"),
                new NftEntry(element("2001:db8:0:0:0:0:0:7%1", "udp/8000-8100"), Duration.ofMinutes(5),
                        Duration.ofMinutes(5), null),
                new NftEntry(element("198.51.100.7", "udp/8000-8100"), Duration.ofSeconds(60), Duration.ofSeconds(1), null),
                new NftEntry(element("2001:db8:1:0:0:1:0:0", "tcp/443"), Duration.ofSeconds(90), Duration.ofSeconds(30), null),
                // the same key again: one line, the later timing wins
                new NftEntry(element("198.51.100.7", "tcp/22"), Duration.ofSeconds(60), Duration.ofSeconds(60),
                        "certknock s=1f i=0011223344556677")));
        assertThat(script).isEqualTo(golden("add.nft"));
    }

    @Test
    void deleteEnsuresEachElementExistsFirstSoExpiredOnesDoNotFailTheBatch() throws IOException {
        String script = new NftRenderer("certknock").delete(List.of(element("198.51.100.7", "tcp/22"),
                element("2001:db8::7", "udp/8000-8100"), element("198.51.100.9", "tcp/8000-8100"),
                element("198.51.100.7", "tcp/22")));
        assertThat(script).isEqualTo(golden("delete.nft"));
    }

    @Test
    void flushSets() {
        assertThat(new NftRenderer("certknock").flushSets()).isEqualTo(golden("flush.nft"));
    }

    @Test
    void nothingToDoRendersNothing() {
        NftRenderer r = new NftRenderer("certknock");
        assertThat(r.add(List.of())).isEmpty();
        assertThat(r.delete(List.of())).isEmpty();
    }

    @Test
    void listArguments() {
        assertThat(new NftRenderer("certknock").listArguments()).containsExactly("-j", "list", "table", "inet", "certknock");
    }

    @Test
    void durations() {
        assertThat(NftRenderer.duration(Duration.ofSeconds(60))).isEqualTo("60s");
        assertThat(NftRenderer.duration(Duration.ofMillis(1))).isEqualTo("1ms");
        assertThat(NftRenderer.duration(Duration.ofMillis(86_400_001))).isEqualTo("86400001ms");
    }

    @Test
    void entriesRefuseUnsafeCommentsAndImpossibleTimes() throws IOException {
        NftElement e = element("198.51.100.7", "tcp/22");
        assertThatThrownBy(() -> new NftEntry(e, Duration.ofSeconds(5), Duration.ofSeconds(5), "x\" ; flush ruleset"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new NftEntry(e, Duration.ofSeconds(5), Duration.ZERO, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new NftEntry(e, Duration.ofSeconds(5), Duration.ofSeconds(6), null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void settingsRefuseTableNamesThatCouldInjectScript() {
        for (String bad : List.of("", "1abc", "certknock; flush ruleset", "a b", "x\ny", "a".repeat(33))) {
            assertThatThrownBy(() -> new NftSettings(bad, 62201, PROTECT, false, List.of()))
                    .as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> new NftSettings("certknock", 0, PROTECT, false, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
