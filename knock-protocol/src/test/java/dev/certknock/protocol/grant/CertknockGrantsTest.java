package dev.certknock.protocol.grant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CertknockGrantsTest {

    private static final CertknockGrants SSH_AND_APP = CertknockGrants.of(
            PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8100"));

    @ParameterizedTest(name = "{0} permitted: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            tcp/22          | true
            udp/8000        | true
            udp/8000-8100   | true
            udp/8050-8060   | true
            tcp/23          | false
            udp/22          | false
            tcp/8000        | false
            udp/7999-8000   | false
            udp/8100-8101   | false
            tcp/21-22       | false
            """)
    void permitsOnlyRequestsInsideOneGrant(String requested, boolean permitted) {
        assertThat(SSH_AND_APP.permits(PortGrant.parse(requested))).isEqualTo(permitted);
    }

    @Test
    void aRequestSpanningTwoAdjacentGrantsIsNotPermitted() {
        CertknockGrants adjacent = CertknockGrants.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/23"));

        assertThat(adjacent.permits(PortGrant.parse("tcp/22-23"))).isFalse();
        assertThat(adjacent.permits(PortGrant.parse("tcp/23"))).isTrue();
    }

    @Test
    void noServersMeansAnyServer() {
        assertThat(SSH_AND_APP.permitsServer("anything.example")).isTrue();
    }

    @ParameterizedTest(name = "{0} permitted: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            gw1.example.test    | true
            GW1.EXAMPLE.TEST    | true
            Gw2.Example.Test    | true
            gw3.example.test    | false
            gw1.example.test.   | false
            gw1                 | false
            ''                  | false
            GW-Ü.EXAMPLE        | false
            gw-ü.example        | true
            """)
    void matchesServerNamesIgnoringAsciiCase(String name, boolean permitted) {
        CertknockGrants grants = SSH_AND_APP.withServers(List.of("gw1.example.test", "GW2.example.TEST", "gw-ü.example"));

        assertThat(grants.permitsServer(name)).isEqualTo(permitted);
    }

    @Test
    void serverMatchingIsNotLocaleSensitive() {
        // With Unicode case folding the dotless i (U+0131) would match 'i'; DNS compares ASCII case only.
        CertknockGrants grants = SSH_AND_APP.withServers(List.of("\u0131x.example"));

        assertThat(grants.permitsServer("ix.example")).isFalse();
        assertThat(grants.permitsServer("IX.example")).isFalse();
    }

    @Test
    void noSourcesMeansAnySource() throws Exception {
        assertThat(SSH_AND_APP.permitsSource(InetAddress.getByName("192.0.2.1"))).isTrue();
        assertThat(SSH_AND_APP.permitsSource(InetAddress.getByName("2001:db8::1"))).isTrue();
    }

    @Test
    void sourcesMustContainTheAddress() throws Exception {
        CertknockGrants grants = SSH_AND_APP.withSources(List.of(
                SourcePrefix.parse("203.0.113.0/24"), SourcePrefix.parse("2001:db8::/32")));

        assertThat(grants.permitsSource(InetAddress.getByName("203.0.113.200"))).isTrue();
        assertThat(grants.permitsSource(InetAddress.getByName("2001:db8:5::1"))).isTrue();
        assertThat(grants.permitsSource(InetAddress.getByName("203.0.114.1"))).isFalse();
        assertThat(grants.permitsSource(InetAddress.getByName("2001:db9::1"))).isFalse();
    }

    @Test
    void listsAreImmutableCopies() {
        List<PortGrant> ports = new ArrayList<>(List.of(PortGrant.parse("tcp/22")));
        List<String> servers = new ArrayList<>(List.of("gw1"));
        CertknockGrants grants = new CertknockGrants(ports, OptionalInt.empty(), servers, List.of());

        ports.add(PortGrant.parse("tcp/23"));
        servers.clear();

        assertThat(grants.grants()).containsExactly(PortGrant.parse("tcp/22"));
        assertThat(grants.servers()).containsExactly("gw1");
        assertThatThrownBy(() -> grants.grants().add(PortGrant.parse("tcp/1")))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void withersKeepTheOtherFields() {
        CertknockGrants full = SSH_AND_APP.withMaxOpenSeconds(60)
                .withServers(List.of("gw1"))
                .withSources(List.of(SourcePrefix.parse("10.0.0.0/8")));

        assertThat(full.grants()).isEqualTo(SSH_AND_APP.grants());
        assertThat(full.maxOpenSeconds()).hasValue(60);
        assertThat(full.withoutMaxOpenSeconds().maxOpenSeconds()).isEmpty();
        assertThat(full.withoutMaxOpenSeconds().servers()).containsExactly("gw1");
        assertThat(full.withServers(List.of()).sources()).hasSize(1);
    }

    @Test
    void refusesAnEmptyGrantList() {
        assertThatThrownBy(() -> CertknockGrants.of(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("grants: the list is empty: a certificate must grant at least one port");
    }

    @Test
    void refusesMoreThanTheLimits() {
        List<PortGrant> ports = Collections.nCopies(65, PortGrant.parse("tcp/22"));
        assertThatThrownBy(() -> CertknockGrants.of(ports))
                .hasMessage("grants: 65 entries, more than the limit of 64");
        assertThat(CertknockGrants.of(ports.subList(0, 64)).grants()).hasSize(64);

        List<String> names = Collections.nCopies(33, "gw");
        assertThatThrownBy(() -> SSH_AND_APP.withServers(names))
                .hasMessage("servers: 33 entries, more than the limit of 32");

        List<SourcePrefix> prefixes = Collections.nCopies(33, SourcePrefix.parse("10.0.0.0/8"));
        assertThatThrownBy(() -> SSH_AND_APP.withSources(prefixes))
                .hasMessage("sources: 33 entries, more than the limit of 32");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {0, -1, 86401, Integer.MAX_VALUE, Integer.MIN_VALUE})
    void refusesMaxOpenSecondsOutOfRange(int seconds) {
        assertThatThrownBy(() -> SSH_AND_APP.withMaxOpenSeconds(seconds))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxOpenSeconds: " + seconds + " is outside 1-86400 (one second to one day)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {1, 300, 86400})
    void acceptsMaxOpenSecondsInRange(int seconds) {
        assertThat(SSH_AND_APP.withMaxOpenSeconds(seconds).maxOpenSeconds()).hasValue(seconds);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            ''              | server 2: the name is empty
            'gw\t1'         | server 2: control character U+0009 at index 2
            'gw1\r'         | server 2: control character U+000D at index 3
            '\u0000'        | server 2: control character U+0000 at index 0
            '\u009Bgw'      | server 2: control character U+009B at index 0
            'gw\uD800x'     | server 2: unpaired UTF-16 surrogate U+D800 at index 2
            'gw\uDC00'      | server 2: unpaired UTF-16 surrogate U+DC00 at index 2
            """)
    void refusesBadServerNames(String name, String message) {
        assertThatThrownBy(() -> SSH_AND_APP.withServers(Arrays.asList("gw1", name)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void serverNameLengthCountsCharactersNotUtf16Units() {
        String emoji = "\uD83D\uDE80"; // one character, two UTF-16 units, four UTF-8 bytes
        assertThat(SSH_AND_APP.withServers(List.of(emoji.repeat(253))).servers()).hasSize(1);
        assertThat(SSH_AND_APP.withServers(List.of("a".repeat(253))).servers()).hasSize(1);
        assertThatThrownBy(() -> SSH_AND_APP.withServers(List.of("a".repeat(254))))
                .hasMessage("server 1: the name is 254 characters long, more than the limit of 253");
        assertThatThrownBy(() -> SSH_AND_APP.withServers(List.of(emoji.repeat(254))))
                .hasMessage("server 1: the name is 254 characters long, more than the limit of 253");
    }

    @Test
    void refusesNullsWithTheirPosition() {
        assertThatThrownBy(() -> CertknockGrants.of(Arrays.asList(PortGrant.parse("tcp/22"), null)))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("grant 2 is null");
        assertThatThrownBy(() -> SSH_AND_APP.withServers(Arrays.asList("gw1", null)))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("server 2 is null");
        assertThatThrownBy(() -> new CertknockGrants(SSH_AND_APP.grants(), null, List.of(), List.of()))
                .isInstanceOf(NullPointerException.class);
    }
}
