package dev.certknock.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.ServerFixture;
import dev.certknock.testing.pki.TestCa;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CheckConfigCommandTest {

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return KnockServerCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void aGoodConfigurationIsSummarised() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        assertThat(run("check-config", config.toString())).isZero();
        assertThat(out.toString()).contains(": OK").contains("server name     gw1.example.test")
                .contains("knock key       P256_SHA256_AES128GCM id " + f.serverKey.publicKey().keyIdHex())
                .contains("CN=certknock test CA").contains("[tcp/22, udp/8000-8100]");
    }

    @Test
    void theMetricsEndpointAndTheStatusSocketArePrinted() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        assertThat(run("check-config", config.toString())).isZero();
        assertThat(out.toString()).contains("metrics         off (no metrics section)")
                .contains("status socket   " + dir.resolve("status.sock"));

        Files.writeString(config, Files.readString(config) + "metrics:\n  port: 9464\nstatus:\n  socket: /run/ck/s.sock\n");
        StringWriter out2 = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(out2), new PrintWriter(new StringWriter()), "check-config",
                config.toString())).isZero();
        assertThat(out2.toString()).contains("metrics         http://127.0.0.1:9464/metrics")
                .contains("status socket   /run/ck/s.sock").doesNotContain("warning: metrics");

        Files.writeString(config, Files.readString(config).replace("  port: 9464\n",
                "  port: 9464\n  address: \"::\"\n  allowNonLoopback: true\n"));
        StringWriter out3 = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(out3), new PrintWriter(new StringWriter()), "check-config",
                config.toString())).isZero();
        assertThat(out3.toString()).contains("metrics         http://[::]:9464/metrics")
                .contains("warning: metrics.address :: is not a loopback address");
    }

    @Test
    void twoCaCertificatesOfOneNameWithDifferentKeysAreWarnedAbout() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        assertThat(run("check-config", config.toString())).isZero();
        assertThat(out.toString()).doesNotContain("share the subject name");

        TestCa renewed = TestCa.root(f.ca.certificate().getSubjectX500Principal().getName(), Clock.systemUTC());
        Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder().encodeToString(renewed.certificate().getEncoded())
                + "\n-----END CERTIFICATE-----\n", StandardOpenOption.APPEND);
        StringWriter out2 = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(out2), new PrintWriter(new StringWriter()), "check-config",
                config.toString())).isZero();
        assertThat(out2.toString()).contains("warning: 2 CA certificates with different keys share the subject name "
                + f.ca.certificate().getSubjectX500Principal().getName());
    }

    @Test
    void theFirewallLimitsArePrintedAndAPerCertificateLimitAboveTheTotalIsRefusedWithItsKey() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "firewall:\n  maxElements: 500\n");
        assertThat(run("check-config", config.toString())).isZero();
        assertThat(out.toString()).contains("firewall        log (at most 500 elements open, 256 per certificate)");

        Path bad = f.writeConfig(dir, f.ca.crl().build(), "firewall:\n  maxElements: 100\n  maxElementsPerCertificate: 101\n");
        StringWriter err = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "check-config",
                bad.toString())).isNotZero();
        assertThat(err.toString()).contains("firewall.maxElementsPerCertificate").contains("101")
                .contains("between 1 and 100");
    }

    @Test
    void acceptingKnockV1OrTurningRepliesOffIsWarnedAbout() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        assertThat(run("check-config", config.toString())).isZero();
        assertThat(out.toString()).contains("knock versions  2, replies on (at most 200/s)").doesNotContain("acceptVersion1");

        Path risky = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(risky, Files.readString(risky).replace("knock:\n", "knock:\n  acceptVersion1: true\n  replies: false\n"));
        StringWriter out2 = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(out2), new PrintWriter(new StringWriter()), "check-config",
                risky.toString())).isZero();
        assertThat(out2.toString()).contains("knock versions  2 and 1, replies off")
                .contains("warning: knock.acceptVersion1 is true: a v1 knock that declares no address can be re-sent")
                .contains("(declaredAddress use-source)")
                .contains("warning: knock.replies is false: clients behind NAT");
    }

    @Test
    void aGatewayGroupsReplayStoreIsShownWithoutItsPasswordAndLocalOnlyIsWarnedAbout() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        assertThat(run("check-config", config.toString())).isZero();
        assertThat(out.toString()).contains("replay store    local (this gateway's journal only)");

        Path group = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(group, Files.readString(group).replace("knock:\n", "knock:\n"
                + "  replayStore: redis://:hunter22hunter@127.0.0.1:1/0\n  replayStoreOutage: local-only\n"));
        StringWriter out2 = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(out2), new PrintWriter(new StringWriter()), "check-config",
                group.toString())).as("Redis is not asked (nothing listens on port 1)").isZero();
        assertThat(out2.toString())
                .contains("replay store    redis://***@127.0.0.1:1/0 (gateway group; 100 ms deadline, during an outage "
                        + "knocks are granted locally)")
                .contains("warning: knock.replayStoreOutage is local-only")
                .doesNotContain("hunter22hunter");
    }

    /** Issue 12: a wrong password alone exits 4 (credentials unusable), as check-config --help and docs say. */
    @Test
    void aWrongBundlePasswordNamesTheLine() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(dir.resolve("password.txt"), "not the password\n");
        assertThat(run("check-config", config.toString())).isEqualTo(4);
        assertThat(err.toString()).contains(config + ":4:").contains("wrong password for").contains("server.p12")
                .doesNotContain("not the password");
        StringWriter help = new StringWriter();
        KnockServerCommand.run(new PrintWriter(help), new PrintWriter(new StringWriter()), "check-config", "--help");
        assertThat(help.toString()).containsPattern("4\\s+Credentials unusable: every error is a wrong bundle password");
    }

    /**
     * run refuses the same file with the same exit code as check-config, before anything starts: 4 for a wrong
     * bundle password alone (a unit's restart policy or a script can tell it from a broken file), 3 for anything else.
     */
    @Test
    void runExitsAsCheckConfigDoesForTheSameFile() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(dir.resolve("password.txt"), "not the password\n");
        assertThat(run("run", "--config", config.toString())).as("wrong password alone").isEqualTo(4);
        assertThat(err.toString()).contains(config + ":4:").contains("wrong password for").doesNotContain("not the password");

        Files.delete(dir.resolve("ca.pem"));
        assertThat(run("run", "--config", config.toString())).as("a wrong password and a missing file").isEqualTo(3);
        StringWriter help = new StringWriter();
        KnockServerCommand.run(new PrintWriter(help), new PrintWriter(new StringWriter()), "run", "--help");
        assertThat(help.toString()).containsPattern("4\\s+Credentials unusable: every problem is a wrong bundle password")
                .containsPattern("3\\s+Invalid configuration");
    }

    @Test
    void aMissingFileAndAMissingEnvironmentVariableAreNamed() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.delete(dir.resolve("ca.pem"));
        assertThat(run("check-config", config.toString())).isEqualTo(3);
        assertThat(err.toString()).contains(config + ":7:").contains("cannot read the certificate").contains("no such file").contains("ca.pem");

        Files.writeString(config, Files.readString(config).replace("passwordFile: password.txt",
                "passwordEnv: CERTKNOCK_TEST_UNSET_VARIABLE"));
        StringWriter err2 = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(new StringWriter()), new PrintWriter(err2), "check-config",
                config.toString())).isEqualTo(3);
        assertThat(err2.toString()).contains(config + ":5:").contains("CERTKNOCK_TEST_UNSET_VARIABLE is not set");
    }

    @Test
    void aSyntaxErrorIsAnInputError() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "server: [unclosed\n");
        assertThat(run("check-config", config.toString())).isEqualTo(3);
        assertThat(err.toString()).contains("bad.yaml:");
    }

    private static int lineOf(Path config, String text) throws Exception {
        List<String> lines = Files.readAllLines(config);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError(text + " not in " + config);
    }

    /** State paths that the server could not write are found by check-config, at their line. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "the replay journal is a directory | replayJournal: replay.journal | replayJournal: state-dir | is not a regular file",
            "the CRL cache is a file           | cacheDir: crl-cache           | cacheDir: plain-file     | is not a directory",
            "the audit log is a FIFO           | '#audit'                      | fifo                     | is not a regular file",
            "a parent is a file                | replayJournal: replay.journal | replayJournal: plain-file/replay.journal | is not a writable directory"})
    void anUnusableStatePathNamesItsLine(String what, String from, String to, String message) throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "logging:\n  audit: audit.jsonl\n");
        Files.createDirectories(dir.resolve("state-dir"));
        Files.writeString(dir.resolve("plain-file"), "x");
        Process mkfifo = new ProcessBuilder("mkfifo", dir.resolve("fifo").toString()).inheritIO().start();
        assertThat(mkfifo.waitFor()).isZero();
        String text = Files.readString(config);
        text = from.equals("#audit") ? text.replace("audit: audit.jsonl", "audit: fifo") : text.replace(from, to);
        Files.writeString(config, text);
        int line = lineOf(config, from.equals("#audit") ? "audit: fifo" : to);
        assertThat(run("check-config", config.toString())).as(what).isEqualTo(3);
        assertThat(err.toString()).contains(config + ":" + line + ":").contains(message);
    }
    /** Issue 11: every problem at once, across the configuration and the files it names, sorted by line. */
    @Test
    void everyProblemIsReportedAtOnceSortedByLineWithAFailingExitCode() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(dir.resolve("password.txt"), "not the password\n");
        Files.delete(dir.resolve("ca.pem"));
        Files.delete(dir.resolve("crl.der"));
        Files.writeString(dir.resolve("plain-file"), "x");
        Files.writeString(config, Files.readString(config).replace("replayJournal: replay.journal",
                "replayJournal: plain-file/replay.journal"));
        assertThat(run("check-config", config.toString())).as("any error besides a wrong password: 3").isEqualTo(3);
        List<String> errors = err.toString().lines().toList();
        assertThat(errors).hasSize(4).allSatisfy(l -> assertThat(l).startsWith("error: " + config + ":"));
        assertThat(errors.get(0)).contains(":4:").contains("wrong password for").doesNotContain("not the password");
        assertThat(errors.get(1)).contains(":7:").contains("cannot read the certificate").contains("ca.pem");
        assertThat(errors.get(2)).contains(":" + lineOf(config, "crl.der") + ":").contains("the CRL file")
                .contains("does not exist");
        assertThat(errors.get(3)).contains(":13:").contains("is not a writable directory");
        assertThat(out.toString()).contains(config + ": 4 errors");
    }

    @Test
    void aConfigurationMistakeAndAFileMistakeInAnotherSectionAreBothReported() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "limits:\n  workers: 0\n  queueCapacity: lots\n");
        assertThat(run("check-config", config.toString())).isEqualTo(3);
        assertThat(err.toString().lines()).hasSize(2);
        assertThat(err.toString()).contains("limits.workers is 0").contains("limits.queueCapacity: wrong type");
    }

    @Test
    void aCrlUrlWithoutAHostIsAnError() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(config, Files.readString(config).replace(dir.resolve("crl.der").toUri().toString(),
                "http:///ca.crl"));
        assertThat(run("check-config", config.toString())).isEqualTo(3);
        assertThat(err.toString()).contains(config + ":10:").contains("CRL URL has no host: http:///ca.crl");
    }

    /** Issue 11: a password file or a bundle that others can read is a warning naming the chmod; never the password. */
    @Test
    void secretFilesReadableByOthersAreWarnedAboutWithTheChmodToRun() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Path password = dir.resolve("password.txt");
        Path bundle = dir.resolve("server.p12");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(bundle, PosixFilePermissions.fromString("rw-r-----"));
        assertThat(run("check-config", config.toString())).as("a warning does not fail the check").isZero();
        assertThat(out.toString()).contains(": OK (2 warnings)")
                .contains("warning: " + config + ":4:15: the bundle (it holds the private knock key) " + bundle
                        + " is readable by its group (mode rw-r-----): run chmod go-rwx " + bundle)
                .contains("warning: " + config + ":5:21: the password file " + password
                        + " is readable by other users (mode rw-r--r--): run chmod go-rwx " + password)
                .doesNotContain(new String(ServerFixture.PASSWORD));

        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(bundle, PosixFilePermissions.fromString("r--------"));
        StringWriter out2 = new StringWriter();
        assertThat(KnockServerCommand.run(new PrintWriter(out2), new PrintWriter(new StringWriter()), "check-config",
                config.toString())).isZero();
        assertThat(out2.toString()).doesNotContain("go-rwx").contains(": OK\n");
    }
}
