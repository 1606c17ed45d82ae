package dev.certknock.protocol.grant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class GrantBoundTest {

    /** The database team: tcp/5432 on *.db.example.test from 10.20.0.0/16, at most 10 minutes. */
    private static final CertknockGrants DB_TEAM = CertknockGrants.of(PortGrant.parse("tcp/5432"))
            .withMaxOpenSeconds(600)
            .withServers(List.of("*.db.example.test"))
            .withSources(List.of(SourcePrefix.parse("10.20.0.0/16")));

    private static CertknockGrants leaf(String grant, List<String> servers, List<String> sources) {
        return CertknockGrants.of(PortGrant.parse(grant)).withServers(servers)
                .withSources(sources.stream().map(SourcePrefix::parse).toList());
    }

    @Test
    void aLeafInsideEveryFieldIsInside() {
        assertThat(GrantBound.crossings(DB_TEAM, leaf("tcp/5432", List.of("pg1.db.example.test", "PG2.DB.example.test"),
                List.of("10.20.3.0/24", "10.20.0.0/16", "10.20.9.9")))).isEmpty();
        assertThat(GrantBound.contains(DB_TEAM, leaf("tcp/5432", List.of("pg1.db.example.test"), List.of("10.20.0.0/16"))))
                .isTrue();
    }

    @Test
    void eachGrantMustLieInsideSomeGrantOfTheBoundWhichIsAUnion() {
        CertknockGrants bound = CertknockGrants.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/5400-5499"));
        assertThat(GrantBound.contains(bound, CertknockGrants.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/5432"))))
                .isTrue();
        assertThat(GrantBound.crossings(bound, CertknockGrants.of(PortGrant.parse("tcp/5432-5500"))))
                .containsExactly("grant tcp/5432-5500 is outside the bound's grants tcp/22, tcp/5400-5499");
        assertThat(GrantBound.crossings(bound, CertknockGrants.of(PortGrant.parse("udp/22"))))
                .containsExactly("grant udp/22 is outside the bound's grants tcp/22, tcp/5400-5499");
        // A range spanning two bound grants is outside, even when they are adjacent (as for a knock's request).
        CertknockGrants adjacent = CertknockGrants.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/23"));
        assertThat(GrantBound.contains(adjacent, CertknockGrants.of(PortGrant.parse("tcp/22-23")))).isFalse();
    }

    @Test
    void serverPatternsAreExactOrOneLeadingWildcardLabel() {
        assertThat(GrantBound.coversServer("*.db.example.test", "pg1.db.example.test")).isTrue();
        assertThat(GrantBound.coversServer("*.DB.example.test", "pg1.db.EXAMPLE.test")).isTrue();
        assertThat(GrantBound.coversServer("*.db.example.test", "db.example.test")).isFalse();
        assertThat(GrantBound.coversServer("*.db.example.test", "a.pg1.db.example.test")).isFalse();
        assertThat(GrantBound.coversServer("*.db.example.test", ".db.example.test")).isFalse();
        assertThat(GrantBound.coversServer("*.db.example.test", "pg1.dbx.example.test")).isFalse();
        assertThat(GrantBound.coversServer("*.db.example.test", "pg1xdb.example.test")).isFalse();
        assertThat(GrantBound.coversServer("gw1.example.test", "GW1.example.test")).isTrue();
        assertThat(GrantBound.coversServer("gw1.example.test", "gw2.example.test")).isFalse();
        // '*' elsewhere is an ordinary character; a bare '*' or '*.' is no wildcard.
        assertThat(GrantBound.coversServer("pg*.db.example.test", "pg1.db.example.test")).isFalse();
        assertThat(GrantBound.coversServer("*", "gw1")).isFalse();
        assertThat(GrantBound.coversServer("*.", "a.")).isFalse();
        // Non-ASCII characters compare exactly, as permitsServer does.
        assertThat(GrantBound.coversServer("*.bücher.test", "a.BÜCHER.test")).isFalse();
        assertThat(GrantBound.coversServer("*.bücher.test", "a.bücher.TEST")).isTrue();
    }

    @Test
    void aLeafThatAllowsAnyServerOrAnySourceIsOutsideABoundThatListsThem() {
        assertThat(GrantBound.crossings(DB_TEAM, leaf("tcp/5432", List.of(), List.of("10.20.0.0/16"))))
                .containsExactly("no servers listed (any server) but the bound allows only servers *.db.example.test");
        assertThat(GrantBound.crossings(DB_TEAM, leaf("tcp/5432", List.of("pg1.db.example.test"), List.of())))
                .containsExactly("no sources listed (any source) but the bound allows only sources 10.20.0.0/16");
    }

    @Test
    void eachKindOfCrossingIsNamed() {
        assertThat(GrantBound.crossings(DB_TEAM, leaf("tcp/22", List.of("pg1.db.example.test", "web.example.test"),
                List.of("10.20.0.0/16", "10.0.0.0/8")))).containsExactly(
                "grant tcp/22 is outside the bound's grants tcp/5432",
                "server web.example.test is not covered by the bound's servers *.db.example.test",
                "source 10.0.0.0/8 is not inside the bound's sources 10.20.0.0/16");
    }

    @Test
    void sourcesMustBeInsideAPrefixOfTheSameFamily() {
        CertknockGrants bound = CertknockGrants.of(PortGrant.parse("tcp/22"))
                .withSources(List.of(SourcePrefix.parse("10.20.0.0/16"), SourcePrefix.parse("2001:db8::/32")));
        assertThat(GrantBound.contains(bound, leaf("tcp/22", List.of(), List.of("2001:db8:1::/48", "10.20.1.1")))).isTrue();
        assertThat(GrantBound.contains(bound, leaf("tcp/22", List.of(), List.of("10.21.0.0/16")))).isFalse();
        assertThat(GrantBound.contains(bound, leaf("tcp/22", List.of(), List.of("10.20.0.0/15")))).isFalse();
        // ::ffff:10.20.0.0/112 holds the IPv4-mapped forms of 10.20.0.0/16: another family, outside.
        assertThat(GrantBound.contains(bound, leaf("tcp/22", List.of(), List.of("::ffff:10.20.0.0/112")))).isFalse();
        CertknockGrants v6 = CertknockGrants.of(PortGrant.parse("tcp/22")).withSources(List.of(SourcePrefix.parse("::/0")));
        assertThat(GrantBound.contains(v6, leaf("tcp/22", List.of(), List.of("10.20.0.0/16")))).isFalse();
        CertknockGrants v4 = CertknockGrants.of(PortGrant.parse("tcp/22")).withSources(List.of(SourcePrefix.parse("0.0.0.0/0")));
        assertThat(GrantBound.contains(v4, leaf("tcp/22", List.of(), List.of("10.20.0.0/16")))).isTrue();
    }

    @Test
    void maxOpenSecondsIsACapNotACondition() {
        CertknockGrants longLeaf = leaf("tcp/5432", List.of("pg1.db.example.test"), List.of("10.20.0.0/16"))
                .withMaxOpenSeconds(3600);
        assertThat(GrantBound.contains(DB_TEAM, longLeaf)).isTrue();
        assertThat(GrantBound.cap(OptionalInt.empty(), DB_TEAM)).hasValue(600);
        assertThat(GrantBound.cap(OptionalInt.of(300), DB_TEAM)).hasValue(300);
        assertThat(GrantBound.cap(OptionalInt.of(900), DB_TEAM)).hasValue(600);
        assertThat(GrantBound.cap(OptionalInt.of(900), DB_TEAM.withoutMaxOpenSeconds())).hasValue(900);
        assertThat(GrantBound.cap(OptionalInt.empty(), DB_TEAM.withoutMaxOpenSeconds())).isEmpty();
    }

    @Test
    void aBoundWithoutServersOrSourcesConstrainsOnlyThePorts() {
        CertknockGrants portsOnly = CertknockGrants.of(PortGrant.parse("tcp/1-65535"));
        assertThat(GrantBound.contains(portsOnly, leaf("tcp/22", List.of(), List.of()))).isTrue();
        assertThat(GrantBound.contains(portsOnly, leaf("udp/53", List.of(), List.of()))).isFalse();
    }
}
