package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.certknock.ca.pki.PemFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lifetimes as durations (--valid-for), renew, and list --expiring, through the knock-ca command line. */
class ShortLivedAndRenewTest {

    @TempDir
    Path tmp;

    CaTestSupport t;

    @BeforeEach
    void setUp() throws Exception {
        t = new CaTestSupport(tmp);
        t.init("--days", "100").ok();
    }

    private X509Certificate cert(String file) {
        return PemFiles.certificates(tmp.resolve(file)).get(0);
    }

    /** notAfter minus notBefore: the lifetime asked for plus the 5-minute backdating. */
    private static Duration span(X509Certificate c) {
        return Duration.between(c.getNotBefore().toInstant(), c.getNotAfter().toInstant());
    }

    private CaTestSupport.Result renew(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("renew", "--dir", t.ca.toString(), "--ca-password-file",
                t.caPass.toString(), "--bundle-password-file", t.outPass.toString()));
        all.addAll(List.of(args));
        return CaTestSupport.run(all.toArray(String[]::new));
    }

    private JsonNode entry(String serial) {
        for (JsonNode row : CaTestSupport.run("list", "--dir", t.ca.toString(), "--json").ok().json()) {
            if (row.get("serial").asText().equals(serial)) {
                return row;
            }
        }
        throw new AssertionError("serial " + serial + " not listed");
    }

    /** The new serial a renew printed ("Issued client certificate S" on its second line). */
    private static String newSerial(CaTestSupport.Result r) {
        String issued = r.out().lines().filter(l -> l.startsWith("Issued ")).findFirst().orElseThrow();
        return issued.substring(issued.lastIndexOf(' ') + 1);
    }

    @Test
    void validForTakesDurationsAndTheNotBeforeIsBackdatedFiveMinutes() throws Exception {
        String[][] cases = {{"30m", "PT35M"}, {"8h", "PT8H5M"}, {"90d", "PT2160H5M"}, {"1d12h", "PT36H5M"},
            {"PT8H", "PT8H5M"}, {"2w", "PT336H5M"}, {"5m", "PT10M"}};
        int i = 0;
        for (String[] c : cases) {
            String name = "c" + i++;
            CaTestSupport.Result r = t.issueClient(name, "--grant", "tcp/22", "--valid-for", c[0]).ok();
            assertThat(span(cert(name + ".pem"))).as(c[0]).isEqualTo(Duration.parse(c[1]));
            // times printed to the second, in UTC, whatever the JVM's zone
            assertThat(r.out()).containsPattern("valid: +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ to "
                    + "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(");
            assertThat(Instant.parse(entry(CaTestSupport.serialOf(r)).get("notAfter").asText()))
                    .isEqualTo(cert(name + ".pem").getNotAfter().toInstant());
        }
        t.issueClient("days", "--grant", "tcp/22", "--days", "2").ok();
        assertThat(span(cert("days.pem"))).isEqualTo(Duration.parse("PT48H5M"));
        t.issueServer("gw1.example.test", "--valid-for", "8h").ok();
        assertThat(span(cert("gw1.example.test.pem"))).isEqualTo(Duration.parse("PT8H5M"));
        // the defaults stay 90 days for a client
        t.issueClient("default", "--grant", "tcp/22").ok();
        assertThat(span(cert("default.pem"))).isEqualTo(Duration.parse("PT2160H5M"));
    }

    @Test
    void junkTooShortTooLongAndBothOptionsAreRefused() throws Exception {
        for (String junk : new String[] {"8 hours", "8x", "", "h", "-1h", "P", "8h-", "1.5h"}) {
            CaTestSupport.Result r = t.issueClient("alice", "--grant", "tcp/22", "--valid-for", junk);
            assertThat(r.code()).as("'%s': %s", junk, r.err()).isEqualTo(3);
            assertThat(r.err()).contains("is not a duration", "e.g. 30m, 8h, 90d");
        }
        CaTestSupport.Result shortOne = t.issueClient("alice", "--grant", "tcp/22", "--valid-for", "4m59s");
        assertThat(shortOne.code()).isEqualTo(3);
        assertThat(shortOne.err()).contains("--valid-for 4m59s is 4m59s, shorter than the minimum 5m");
        assertThat(t.issueClient("alice", "--grant", "tcp/22", "--days", "0").err()).contains("--days 0 is 0s, shorter than the minimum 5m");
        assertThat(t.issueClient("alice", "--grant", "tcp/22", "--valid-for", "3651d").err()).contains("longer than the maximum");
        CaTestSupport.Result both = t.issueClient("alice", "--grant", "tcp/22", "--valid-for", "8h", "--days", "2");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("give --valid-for or --days, not both");
        assertThat(CaTestSupport.run("list", "--dir", t.ca.toString(), "--json").ok().json()).as("nothing issued").isEmpty();
    }

    @Test
    void aLifetimePastTheCasNotAfterIsRefusedNamingBothDatesAndWhatToDo() throws Exception {
        CaTestSupport.Result r = t.issueClient("alice", "--grant", "tcp/22", "--valid-for", "101d");
        assertThat(r.code()).isEqualTo(3);
        Instant caEnd = PemFiles.certificate(t.ca.resolve("ca.pem")).getNotAfter().toInstant();
        assertThat(r.err()).contains("after its CA's certificate ends (" + caEnd + ")", "knock-ca init")
                .containsPattern("give --valid-for (99d23h59m|100d) or less").doesNotContain("renew the CA first");
        // the whole rest of the CA's life is fine (minutes cut off), one day more is not
        t.issueClient("bob", "--grant", "tcp/22", "--valid-for", "99d23h").ok();
        assertThat(cert("bob.pem").getNotAfter().toInstant()).isBefore(caEnd);
    }

    @Test
    void renewKeepsSubjectAndExtensionsWithANewKeyAndRevokesTheOldOneWhenAsked() throws Exception {
        String old = CaTestSupport.serialOf(t.issueClient("alice", "--grant", "tcp/22", "--grant", "udp/8000-8100",
                "--max-open", "300", "--server", "gw1.example.test", "--source", "203.0.113.0/24", "--critical-grants",
                "--key-type", "ed25519", "--valid-for", "8h").ok());
        X509Certificate before = cert("alice.pem");

        CaTestSupport.Result r = renew("alice", "--out", tmp.resolve("alice-2.p12").toString()).ok();
        String renewed = newSerial(r);
        assertThat(renewed).isNotEqualTo(old);
        assertThat(r.out()).contains("Renewed client certificate " + old + " (CN=alice)",
                "The old certificate " + old + " stays valid until");
        X509Certificate after = cert("alice-2.pem");
        assertThat(after.getSubjectX500Principal()).isEqualTo(before.getSubjectX500Principal());
        assertThat(after.getPublicKey().getEncoded()).isNotEqualTo(before.getPublicKey().getEncoded());
        assertThat(after.getPublicKey().getAlgorithm()).isEqualTo(before.getPublicKey().getAlgorithm());
        assertThat(span(after)).as("the old lifetime by default").isEqualTo(Duration.parse("PT8H5M"));
        assertThat(after.getCriticalExtensionOIDs()).isEqualTo(before.getCriticalExtensionOIDs());
        assertThat(after.getNonCriticalExtensionOIDs()).isEqualTo(before.getNonCriticalExtensionOIDs());
        for (String oid : before.getCriticalExtensionOIDs()) {
            assertThat(after.getExtensionValue(oid)).as(oid).isEqualTo(before.getExtensionValue(oid));
        }
        assertThat(after.getExtensionValue("2.25.145796974053061458932107102370891577014.1"))
                .isEqualTo(before.getExtensionValue("2.25.145796974053061458932107102370891577014.1"));
        assertThat(after.getExtendedKeyUsage()).isEqualTo(before.getExtendedKeyUsage());
        JsonNode bundle = t.inspect(tmp.resolve("alice-2.p12"));
        assertThat(bundle.get("entries").get(0).get("chain").get(0).get("serial").asText()).isEqualTo(renewed);
        assertThat(entry(old).get("status").asText()).isEqualTo("valid");

        // again by name: the newest valid one (renewed) is renewed, and the superseded one revoked
        CaTestSupport.Result third = renew("alice", "--valid-for", "30m", "--out", tmp.resolve("alice-3.p12").toString(),
                "--revoke-old").ok();
        assertThat(third.out()).contains("Renewed client certificate " + renewed, "Revoked the old certificate " + renewed
                + ", reason superseded", "knock-ca crl --dir");
        assertThat(span(cert("alice-3.pem"))).isEqualTo(Duration.parse("PT35M"));
        assertThat(entry(renewed).get("status").asText()).isEqualTo("revoked");
        assertThat(entry(renewed).get("reason").asText()).isEqualTo("superseded");
        assertThat(entry(old).get("status").asText()).isEqualTo("valid");
        t.crl().ok();
        JsonNode crl = t.inspect(t.crlFile());
        assertThat(crl.get("revoked")).singleElement().satisfies(e -> {
            assertThat(e.get("serial").asText()).isEqualTo(renewed);
            assertThat(e.get("reason").asText()).isEqualTo("superseded");
        });

        // a revoked certificate is not renewed, by serial or (when it is the only one) by name
        CaTestSupport.Result revoked = renew("--serial", renewed, "--out", tmp.resolve("x.p12").toString());
        assertThat(revoked.code()).isEqualTo(1);
        assertThat(revoked.err()).contains("was revoked at", "superseded", "issue a new certificate");
        assertThat(Files.exists(tmp.resolve("x.p12"))).isFalse();
    }

    @Test
    void renewByReusedKeyOrCsrKeepsTheOldSubjectAndUnknownOrRevokedNamesFail() throws Exception {
        t.issueClient("bob", "--grant", "tcp/22", "--valid-for", "1d").ok();
        X509Certificate before = cert("bob.pem");
        renew("bob", "--reuse-key", "--out", tmp.resolve("bob-2.pem").toString()).ok();
        List<X509Certificate> pem = PemFiles.certificates(tmp.resolve("bob-2.pem"));
        assertThat(pem).hasSize(2); // the certificate and the CA
        assertThat(pem.get(0).getPublicKey()).isEqualTo(before.getPublicKey());
        assertThat(pem.get(0).getSerialNumber()).isNotEqualTo(before.getSerialNumber());

        // a request whose CN says mallory: the key is certified, the subject stays bob's
        t.run("csr", "mallory", "--key", tmp.resolve("m.key").toString(), "--out", tmp.resolve("m.csr").toString(),
                "--key-password-file", t.outPass.toString()).ok();
        renew("bob", "--csr", tmp.resolve("m.csr").toString(), "--out", tmp.resolve("bob-3.pem").toString()).ok();
        X509Certificate fromCsr = PemFiles.certificates(tmp.resolve("bob-3.pem")).get(0);
        assertThat(fromCsr.getSubjectX500Principal().getName()).isEqualTo("CN=bob");
        assertThat(fromCsr.getPublicKey()).isNotEqualTo(before.getPublicKey());

        // a damaged request is refused
        String csr = Files.readString(tmp.resolve("m.csr"));
        Files.writeString(tmp.resolve("bad.csr"), csr.substring(0, 100) + (csr.charAt(100) == 'A' ? 'B' : 'A') + csr.substring(101));
        CaTestSupport.Result bad = renew("bob", "--csr", tmp.resolve("bad.csr").toString(), "--out", tmp.resolve("bob-4.pem").toString());
        assertThat(bad.code()).isEqualTo(3);

        CaTestSupport.Result unknown = renew("nobody", "--out", tmp.resolve("n.p12").toString());
        assertThat(unknown.code()).isEqualTo(3);
        assertThat(unknown.err()).contains("no certificate named 'nobody'");

        String carol = CaTestSupport.serialOf(t.issueClient("carol", "--grant", "tcp/22").ok());
        CaTestSupport.run("revoke", "--dir", t.ca.toString(), carol, "--reason", "keyCompromise").ok();
        CaTestSupport.Result revoked = renew("carol", "--out", tmp.resolve("carol-2.p12").toString());
        assertThat(revoked.code()).isEqualTo(1);
        assertThat(revoked.err()).contains("serial " + carol, "was revoked at", "keyCompromise", "not renewed");
        assertThat(Files.exists(tmp.resolve("carol-2.p12"))).isFalse();
    }

    @Test
    void listExpiringShowsValidCertificatesSoonestFirstAndNothingWhenNoneExpire() throws Exception {
        String alice = CaTestSupport.serialOf(t.issueClient("alice", "--grant", "tcp/22", "--valid-for", "3d").ok());
        String gw = CaTestSupport.serialOf(t.issueServer("gw1.example.test", "--valid-for", "8h").ok());
        t.issueClient("bob", "--grant", "tcp/22", "--valid-for", "30d").ok();
        String carol = CaTestSupport.serialOf(t.issueClient("carol", "--grant", "tcp/22", "--valid-for", "1h").ok());
        CaTestSupport.run("revoke", "--dir", t.ca.toString(), carol).ok();

        JsonNode json = CaTestSupport.run("list", "--dir", t.ca.toString(), "--expiring", "7d", "--json").ok().json();
        assertThat(json).hasSize(2);
        assertThat(json.get(0).get("name").asText()).isEqualTo("gw1.example.test");
        assertThat(json.get(0).get("serial").asText()).isEqualTo(gw);
        assertThat(json.get(0).get("kind").asText()).isEqualTo("server");
        assertThat(json.get(0).get("notAfter").asText()).isEqualTo(cert("gw1.example.test.pem").getNotAfter().toInstant().toString())
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        assertThat(json.get(0).get("secondsLeft").asLong()).isBetween(8 * 3600L - 60, 8 * 3600L);
        assertThat(json.get(1).get("name").asText()).isEqualTo("alice");
        assertThat(json.get(1).get("serial").asText()).isEqualTo(alice);

        CaTestSupport.Result text = CaTestSupport.run("list", "--dir", t.ca.toString(), "--expiring", "1d").ok();
        assertThat(text.out()).contains(gw, "gw1.example.test", "1 certificate expires within 1d").doesNotContain(alice, carol);
        assertThat(text.out().lines().filter(l -> l.contains(gw)).findFirst().orElseThrow()).containsPattern(" 7h5\\dm\\d+s ");

        CaTestSupport.Result none = CaTestSupport.run("list", "--dir", t.ca.toString(), "--expiring", "1h").ok();
        assertThat(none.code()).isZero();
        assertThat(none.out()).as("cron mails output: none when nothing expires").isEmpty();
        assertThat(CaTestSupport.run("list", "--dir", t.ca.toString(), "--expiring", "1h", "--json").ok().out().strip()).isEqualTo("[]");
        CaTestSupport.Result junk = CaTestSupport.run("list", "--dir", t.ca.toString(), "--expiring", "soon");
        assertThat(junk.code()).isEqualTo(3);
        assertThat(junk.err()).contains("--expiring 'soon' is not a duration");
    }
}
