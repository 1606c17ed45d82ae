package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CA with a bound (issue 13): {@code init --grant ...} writes it into the CA certificate as the grants extension,
 * {@code issue-client} refuses to issue outside it (exit code 3, a message naming the CA and what crosses), {@code
 * inspect} shows it, and an intermediate's own bound must lie inside its parent's.
 */
class CaBoundTest {

    @TempDir
    Path tmp;

    private CaTestSupport t;
    private Path root;

    /** The issue's database team: tcp/5432 on *.db.example.test from 10.20.0.0/16, at most 10 minutes. */
    private static final CertknockGrants DB_TEAM = CertknockGrants.of(PortGrant.parse("tcp/5432"))
            .withMaxOpenSeconds(600).withServers(List.of("*.db.example.test"))
            .withSources(List.of(SourcePrefix.parse("10.20.0.0/16")));

    @BeforeEach
    void rootCa() throws Exception {
        t = new CaTestSupport(tmp);
        root = tmp.resolve("root");
        CaTestSupport.run("init", "--dir", root.toString(), "--name", "Security Root", "--crl-url",
                "http://ca.example.test/root.crl", "--ca-password-file", t.caPass.toString()).ok();
    }

    private CaTestSupport.Result dbTeamCa(String... extra) {
        List<String> args = new ArrayList<>(List.of("--parent", root.toString(),
                "--parent-password-file", t.caPass.toString()));
        args.addAll(Arrays.asList(extra));
        return t.init(args.toArray(String[]::new));
    }

    private CaTestSupport.Result dbTeamCa() {
        return dbTeamCa("--grant", "tcp/5432", "--max-open", "600", "--server", "*.db.example.test", "--source", "10.20.0.0/16");
    }

    private CaTestSupport.Result issue(String name, String... extra) {
        return t.issueClient(name, extra);
    }

    @Test
    void initWritesTheBoundIntoTheIntermediateAndInspectShowsIt() throws Exception {
        CaTestSupport.Result r = dbTeamCa().ok();
        assertThat(r.out()).contains("Created intermediate CA")
                .contains("  bound:       tcp/5432; max-open 600s; servers *.db.example.test; sources 10.20.0.0/16");
        assertThat(GrantsExtension.fromCertificate(PemFiles.certificate(t.ca.resolve("ca.pem")))).contains(DB_TEAM);
        assertThat(GrantsExtension.isCritical(PemFiles.certificate(t.ca.resolve("ca.pem")))).isFalse();
        assertThat(CaTestSupport.run("list", "--dir", root.toString(), "--kind", "ca").ok().out())
                .contains("bound tcp/5432; max-open 600s");

        String text = CaTestSupport.run("inspect", t.ca.resolve("ca.pem").toString()).ok().out();
        assertThat(text).contains("Bound grants:        tcp/5432\n")
                .contains("Bound max open:      600 s (openings below are cut to it)\n")
                .contains("Bound servers:       *.db.example.test\n")
                .contains("Bound sources:       10.20.0.0/16\n")
                .doesNotContain("Grants:");
        JsonNode json = t.inspect(t.ca.resolve("ca.pem"));
        assertThat(json.get("ca").asBoolean()).isTrue();
        assertThat(json.get("grants").toString()).isEqualTo("[{\"protocol\":\"tcp\",\"first\":5432,\"last\":5432}]");
        assertThat(json.get("maxOpenSeconds").asInt()).isEqualTo(600);
        assertThat(json.get("servers").toString()).isEqualTo("[\"*.db.example.test\"]");
        assertThat(json.get("sources").toString()).isEqualTo("[\"10.20.0.0/16\"]");
        // A CA without a bound says so.
        assertThat(CaTestSupport.run("inspect", root.resolve("ca.pem").toString()).ok().out())
                .contains("Bound:               none: this CA may issue any grant\n");
    }

    @Test
    void issueClientIssuesInsideTheBound() throws Exception {
        dbTeamCa().ok();
        issue("alice", "--grant", "tcp/5432", "--server", "pg1.db.example.test", "--server", "PG2.db.example.test",
                "--source", "10.20.3.0/24", "--max-open", "600").ok();
        issue("bob", "--grant", "tcp/5432", "--server", "pg1.db.example.test", "--source", "10.20.0.0/16").ok();
        assertThat(GrantsExtension.fromCertificate(PemFiles.certificate(tmp.resolve("bob.pem"))).orElseThrow()
                .maxOpenSeconds()).as("no --max-open: the bound still caps at the server").isEmpty();
    }

    @Test
    void issueClientRefusesEachKindOfOutsideWithExitCode3AndTheReason() throws Exception {
        dbTeamCa().ok();
        String[][] cases = {
            {"grant tcp/22 is outside the bound's grants tcp/5432",
                "--grant", "tcp/22", "--server", "pg1.db.example.test", "--source", "10.20.0.0/16"},
            {"grant tcp/5432-5433 is outside the bound's grants tcp/5432",
                "--grant", "tcp/5432-5433", "--server", "pg1.db.example.test", "--source", "10.20.0.0/16"},
            {"server web.example.test is not covered by the bound's servers *.db.example.test",
                "--grant", "tcp/5432", "--server", "web.example.test", "--source", "10.20.0.0/16"},
            {"server a.pg1.db.example.test is not covered",
                "--grant", "tcp/5432", "--server", "a.pg1.db.example.test", "--source", "10.20.0.0/16"},
            {"no servers listed (any server) but the bound allows only servers *.db.example.test",
                "--grant", "tcp/5432", "--source", "10.20.0.0/16"},
            {"source 10.0.0.0/8 is not inside the bound's sources 10.20.0.0/16",
                "--grant", "tcp/5432", "--server", "pg1.db.example.test", "--source", "10.0.0.0/8"},
            {"no sources listed (any source) but the bound allows only sources 10.20.0.0/16",
                "--grant", "tcp/5432", "--server", "pg1.db.example.test"},
            {"--max-open 900 is longer than the 600 s the bound of this CA (CN=Test certknock CA) allows",
                "--grant", "tcp/5432", "--server", "pg1.db.example.test", "--source", "10.20.0.0/16", "--max-open", "900"},
        };
        int i = 0;
        for (String[] c : cases) {
            String name = "mallory" + i++;
            CaTestSupport.Result r = issue(name, Arrays.copyOfRange(c, 1, c.length));
            assertThat(r.code()).as(r.err()).isEqualTo(3);
            assertThat(r.err()).contains(c[0]);
            if (!c[0].startsWith("--max-open")) {
                assertThat(r.err()).contains("the client certificate would reach outside the bound of this CA (CN=Test certknock CA)");
            }
            assertThat(tmp.resolve(name + ".p12")).doesNotExist();
            assertThat(tmp.resolve(name + ".pem")).doesNotExist();
        }
        assertThat(CaTestSupport.run("list", "--dir", t.ca.toString()).ok().out()).doesNotContain("mallory");
    }

    @Test
    void aBoundOnTheRootHoldsForTheIntermediateAndEveryCertificateBelow() throws Exception {
        Path boundedRoot = tmp.resolve("bounded-root");
        CaTestSupport.run("init", "--dir", boundedRoot.toString(), "--name", "Bounded Root", "--crl-url",
                "http://ca.example.test/br.crl", "--ca-password-file", t.caPass.toString(),
                "--grant", "tcp/5400-5499", "--server", "*.db.example.test", "--max-open", "300").ok();
        List<String> base = List.of("init", "--dir", t.ca.toString(), "--name", "Database Team CA", "--crl-url",
                "http://ca.example.test/db.crl", "--ca-password-file", t.caPass.toString(), "--parent", boundedRoot.toString(),
                "--parent-password-file", t.caPass.toString());
        CaTestSupport.Result wider = run(base, "--grant", "tcp/22", "--server", "*.db.example.test");
        assertThat(wider.code()).isEqualTo(3);
        assertThat(wider.err()).contains("the intermediate CA's bound would reach outside the bound of the parent CA "
                + "(CN=Bounded Root): grant tcp/22 is outside the bound's grants tcp/5400-5499");
        assertThat(t.ca).as("a refused init leaves no directory").doesNotExist();
        CaTestSupport.Result longer = run(base, "--grant", "tcp/5432", "--server", "*.db.example.test", "--max-open", "600");
        assertThat(longer.code()).isEqualTo(3);
        assertThat(longer.err()).contains("--max-open 600 is longer than the 300 s the bound of the parent CA (CN=Bounded Root)");
        // An intermediate without a bound of its own: the root's still holds below it.
        run(base).ok();
        CaTestSupport.Result outside = issue("mallory", "--grant", "tcp/5432", "--server", "web.example.test");
        assertThat(outside.code()).isEqualTo(3);
        assertThat(outside.err()).contains("outside the bound of its issuer (CN=Bounded Root): server web.example.test");
        issue("alice", "--grant", "tcp/5432", "--server", "pg1.db.example.test").ok();
    }

    @Test
    void badBoundsAreRefusedClearly() throws Exception {
        CaTestSupport.Result noGrant = dbTeamCa("--server", "*.db.example.test");
        assertThat(noGrant.code()).isEqualTo(3);
        assertThat(noGrant.err()).contains("bound a CA only together with --grant");
        for (String pattern : new String[] {"pg*.db.example.test", "*", "*.", "*.*.example.test", "a..example.test"}) {
            CaTestSupport.Result bad = dbTeamCa("--grant", "tcp/5432", "--server", pattern);
            assertThat(bad.code()).as(pattern).isEqualTo(3);
            assertThat(bad.err()).as(pattern).contains("--server '" + pattern + "'");
        }
        CaTestSupport.Result badSource = dbTeamCa("--grant", "tcp/5432", "--source", "10.20.0.1/16");
        assertThat(badSource.code()).isEqualTo(3);
        assertThat(badSource.err()).contains("host bits set");
        assertThat(t.ca).doesNotExist();
    }

    private static CaTestSupport.Result run(List<String> base, String... extra) {
        List<String> args = new ArrayList<>(base);
        args.addAll(Arrays.asList(extra));
        return CaTestSupport.run(args.toArray(String[]::new));
    }
}
