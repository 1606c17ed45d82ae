package dev.certknock.server.firewall.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.firewall.command.CommandTemplate.Placeholder;
import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandTemplateTest {

    private static Map<Placeholder, String> values(String address, String grant, Duration d, long serial)
            throws Exception {
        return CommandTemplate.values(InetAddress.getByName(address), PortGrant.parse(grant), d,
                BigInteger.valueOf(serial));
    }

    @Test
    void substitutesEveryPlaceholderInsideItsOwnElement() throws Exception {
        CommandTemplate t = CommandTemplate.parse("open", List.of("/usr/bin/fw", "add", "{address}",
                "--port={protocol}/{ports}", "{firstPort}..{lastPort}", "{family}", "ttl={seconds}s", "{serial}"));
        assertThat(t.render(values("192.0.2.7", "udp/8000-8100", Duration.ofSeconds(30), 0xBEEF)))
                .containsExactly("/usr/bin/fw", "add", "192.0.2.7", "--port=udp/8000-8100", "8000..8100", "ipv4",
                        "ttl=30s", "beef");
    }

    @Test
    void ipv6SinglePortAndSecondsRoundedUp() throws Exception {
        var v = values("2001:db8::1", "tcp/22", Duration.ofMillis(1500), 1);
        assertThat(v).containsEntry(Placeholder.ADDRESS, "2001:db8:0:0:0:0:0:1")
                .containsEntry(Placeholder.FAMILY, "ipv6").containsEntry(Placeholder.PORTS, "22")
                .containsEntry(Placeholder.FIRST_PORT, "22").containsEntry(Placeholder.LAST_PORT, "22")
                .containsEntry(Placeholder.SECONDS, "2").containsEntry(Placeholder.PROTOCOL, "tcp");
        assertThat(values("192.0.2.1", "tcp/22", Duration.ZERO, 1)).containsEntry(Placeholder.SECONDS, "1");
    }

    @Test
    void ipv6ZoneIsDropped() throws Exception {
        InetAddress scoped = Inet6Address.getByAddress(null, InetAddress.getByName("fe80::1").getAddress(), 3);
        assertThat(scoped.getHostAddress()).contains("%");
        var v = CommandTemplate.values(scoped, PortGrant.parse("tcp/22"), Duration.ofSeconds(1), BigInteger.ONE);
        assertThat(v.get(Placeholder.ADDRESS)).isEqualTo("fe80:0:0:0:0:0:0:1");
    }

    @Test
    void negativeSerialIsRefused() {
        assertThatThrownBy(() -> values("192.0.2.1", "tcp/22", Duration.ofSeconds(1), -5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("serial");
    }

    @Test
    void unknownPlaceholderIsRefusedWhenRead() {
        assertThatThrownBy(() -> CommandTemplate.parse("firewall.command.open", List.of("fw", "{adress}")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("firewall.command.open").hasMessageContaining("{adress}");
    }

    @Test
    void programMayNotHoldAPlaceholder() {
        assertThatThrownBy(() -> CommandTemplate.parse("open", List.of("/opt/{protocol}-open", "x")))
                .hasMessageContaining("may not contain a placeholder");
    }

    @Test
    void emptyTemplateIsRefused() {
        assertThatThrownBy(() -> CommandTemplate.parse("close", List.of())).hasMessageContaining("close is empty");
        assertThatThrownBy(() -> CommandTemplate.parse("close", List.of(" "))).hasMessageContaining("empty");
    }

    @Test
    void otherBracesAndShellCharactersStayLiteral() throws Exception {
        CommandTemplate t = CommandTemplate.parse("open",
                List.of("pwsh", "-Command", "Get-X | ForEach-Object { $_ } -Remote {address}; $(rm -rf /)"));
        assertThat(t.render(values("198.51.100.4", "tcp/443", Duration.ofSeconds(5), 9)))
                .containsExactly("pwsh", "-Command", "Get-X | ForEach-Object { $_ } -Remote 198.51.100.4; $(rm -rf /)");
    }
}
