package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.ca.pki.PemFiles;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Times a user reads are the certificate's own, to the second: X.509 times have no fractions, so a printed
 * {@code 11:19:35.434317921Z} named an instant the certificate does not hold (issue 12 item 5).
 */
class WholeSecondsTest {

    /** An ISO-8601 time with a fraction of a second. */
    private static final Pattern FRACTION = Pattern.compile("\\d{2}:\\d{2}:\\d{2}\\.\\d+Z");

    @TempDir
    Path tmp;

    CaTestSupport t;

    @BeforeEach
    void setUp() throws Exception {
        t = new CaTestSupport(tmp);
    }

    @Test
    void rootAndIntermediateInitPrintTheCertificatesNotAfter() throws Exception {
        Path root = tmp.resolve("root");
        String rootOut = CaTestSupport.run("init", "--dir", root.toString(), "--name", "Test Root",
                "--crl-url", "http://ca.example.test/root.crl", "--ca-password-file", t.caPass.toString()).ok().out();
        X509Certificate rootCert = PemFiles.certificate(root.resolve("ca.pem"));
        assertThat(rootOut).doesNotContainPattern(FRACTION)
                .contains("not after:   " + rootCert.getNotAfter().toInstant() + "\n");

        String out = t.init("--parent", root.toString(), "--parent-password-file", t.caPass.toString()).ok().out();
        X509Certificate intermediate = PemFiles.certificate(t.ca.resolve("ca.pem"));
        assertThat(out).doesNotContainPattern(FRACTION)
                .contains("not after:   " + intermediate.getNotAfter().toInstant() + "\n");

        // The root's index records the intermediate: its list and JSON show the same whole-second times.
        String list = CaTestSupport.run("list", "--dir", root.toString(), "--kind", "ca").ok().out();
        assertThat(list).contains(intermediate.getNotAfter().toInstant().toString());
        String json = CaTestSupport.run("list", "--dir", root.toString(), "--json").ok().out();
        assertThat(json).contains(intermediate.getNotAfter().toInstant().toString()).doesNotContainPattern(FRACTION);
    }

    @Test
    void issueListAndInspectPrintNoFractions() throws Exception {
        t.init().ok();
        String issued = t.issueClient("alice", "--grant", "tcp/22", "--days", "1").ok().out();
        String list = CaTestSupport.run("list", "--dir", t.ca.toString()).ok().out();
        String expiring = CaTestSupport.run("list", "--dir", t.ca.toString(), "--expiring", "2d").ok().out();
        String json = CaTestSupport.run("list", "--dir", t.ca.toString(), "--json").ok().out();
        String inspect = CaTestSupport.run("inspect", tmp.resolve("alice.pem").toString()).ok().out();
        X509Certificate alice = PemFiles.certificate(tmp.resolve("alice.pem"));
        String notAfter = alice.getNotAfter().toInstant().toString();
        for (String out : new String[] {issued, list, expiring, json, inspect}) {
            assertThat(out).doesNotContainPattern(FRACTION).contains(notAfter);
        }
    }
}
