package dev.certknock.protocol.grant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PortGrantTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            tcp/22            | TCP | 22    | 22    | tcp/22
            udp/8000-8100     | UDP | 8000  | 8100  | udp/8000-8100
            TCP/443           | TCP | 443   | 443   | tcp/443
            ' udp / 53 '      | UDP | 53    | 53    | udp/53
            tcp/1-65535       | TCP | 1     | 65535 | tcp/1-65535
            udp/7000 - 7001   | UDP | 7000  | 7001  | udp/7000-7001
            tcp/22-22         | TCP | 22    | 22    | tcp/22
            """)
    void parsesGoodText(String text, Protocol protocol, int first, int last, String printed) {
        PortGrant grant = PortGrant.parse(text);

        assertThat(grant).isEqualTo(new PortGrant(protocol, first, last));
        assertThat(grant.toString()).isEqualTo(printed);
        assertThat(PortGrant.parse(grant.toString())).isEqualTo(grant);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            22                | grant '22' has no protocol: write PROTOCOL/PORT or PROTOCOL/FIRST-LAST
            sctp/22           | unknown protocol 'sctp': use tcp or udp
            /22               | unknown protocol '': use tcp or udp
            tcp/              | grant 'tcp/' has no valid port
            tcp/ssh           | grant 'tcp/ssh' has no valid port
            tcp/22-           | grant 'tcp/22-' has no valid port
            tcp/-22           | grant 'tcp/-22' has no valid port
            tcp/0             | port 0 is outside 1-65535
            udp/65536         | port 65536 is outside 1-65535
            tcp/99999999999   | has no valid port
            tcp/100-22        | port range 100-22 ends before it starts: write the lower port first
            tcp/22/23         | has no valid port
            """)
    void refusesBadText(String text, String message) {
        assertThatThrownBy(() -> PortGrant.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void containsAndOverlapsRespectTheProtocol() {
        PortGrant range = PortGrant.parse("tcp/8000-8100");

        assertThat(range.contains(PortGrant.parse("tcp/8000"))).isTrue();
        assertThat(range.contains(PortGrant.parse("tcp/8050-8100"))).isTrue();
        assertThat(range.contains(PortGrant.parse("tcp/8050-8101"))).isFalse();
        assertThat(range.contains(PortGrant.parse("udp/8050"))).isFalse();
        assertThat(range.overlaps(PortGrant.parse("tcp/8100-9000"))).isTrue();
        assertThat(range.overlaps(PortGrant.parse("tcp/8101-9000"))).isFalse();
        assertThat(range.overlaps(PortGrant.parse("udp/8000-8100"))).isFalse();
    }
}
