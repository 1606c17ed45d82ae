package dev.certknock.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.certknock.server.ServerFixture;
import dev.certknock.testing.http.CrlServer;
import dev.certknock.testing.pki.TestCa;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check-config --online} against a real HTTP server on loopback: each CRL source fetched once and verified
 * (signature by a configured CA, issuer, freshness), each failure an error at its line, bounded by the timeouts.
 */
class CheckConfigOnlineTest {

    @TempDir
    Path dir;

    /** On the real clock: the command checks freshness against it. */
    private final ServerFixture f = new ServerFixture(Instant.now());
    private final TestCa other = TestCa.root("CN=some other CA", Clock.systemUTC());
    private final CrlServer server;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    CheckConfigOnlineTest() throws Exception {
        server = CrlServer.start();
    }

    @AfterEach
    void close() {
        server.close();
    }

    private int run(String... args) {
        return KnockServerCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    /** A configuration whose crl section lists these paths of the server, with short timeouts. */
    private Path config(String... paths) throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        StringBuilder sources = new StringBuilder("crl:\n  connectTimeout: 300ms\n  responseTimeout: 700ms\n  sources:\n");
        for (String p : paths) {
            sources.append("    - url: ").append(server.uri(p)).append('\n');
        }
        String text = Files.readString(config);
        String before = "crl:\n  sources:\n    - url: " + dir.resolve("crl.der").toUri() + "\n";
        assertThat(text).contains(before);
        Files.writeString(config, text.replace(before, sources.toString()));
        return config;
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

    @Test
    void aGoodSourceIsFetchedOnceAndReportedOk() throws Exception {
        server.publish("/good.crl", f.ca.crl().number(7).build().getEncoded());
        Path config = config("/good.crl");

        assertThat(run("check-config", config.toString())).isZero();
        assertThat(server.requestCount("/good.crl")).as("offline: no fetch").isZero();

        assertThat(run("check-config", "--online", config.toString())).as(err.toString()).isZero();
        assertThat(server.requestCount("/good.crl")).isEqualTo(1);
        assertThat(out.toString()).contains("CRL source      " + server.uri("/good.crl")
                + ": ok, issuer CN=certknock test CA, number 7, nextUpdate ").doesNotContain("no CRL source gave");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void everyBadSourceIsAnErrorAtItsLineWithItsReasonAndTheCheckEndsWithinTheTimeouts() throws Exception {
        Instant now = Instant.now();
        server.publish("/good.crl", f.ca.crl().build().getEncoded());
        server.publish("/forged.crl", f.ca.crl().signedBy(other).build().getEncoded());
        server.publish("/foreign.crl", other.crl().build().getEncoded());
        server.publish("/stale.crl", f.ca.crl().thisUpdate(now.minus(Duration.ofDays(2)))
                .nextUpdate(now.minus(Duration.ofDays(1))).build().getEncoded());
        server.publish("/silent.crl", f.ca.crl().build().getEncoded());
        server.stall("/silent.crl", Duration.ofSeconds(30));
        Path config = config("/good.crl", "/forged.crl", "/foreign.crl", "/stale.crl", "/missing.crl", "/silent.crl");

        long start = System.nanoTime();
        int code = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> run("check-config", "--online", config.toString()));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(code).isEqualTo(3);
        assertThat(took).as("bounded by connect + response timeout (1 s), not by the 30 s stall")
                .isLessThan(Duration.ofSeconds(4));
        List<String> errors = err.toString().lines().toList();
        assertThat(errors).as(err.toString()).hasSize(5);
        assertThat(errors.get(0)).startsWith("error: " + config + ":" + lineOf(config, "/forged.crl") + ":")
                .contains("refused (BAD_SIGNATURE)");
        assertThat(errors.get(1)).startsWith("error: " + config + ":" + lineOf(config, "/foreign.crl") + ":")
                .contains("refused (UNKNOWN_ISSUER)").contains("CN=some other CA");
        assertThat(errors.get(2)).startsWith("error: " + config + ":" + lineOf(config, "/stale.crl") + ":")
                .contains("stale: its nextUpdate").contains("has passed");
        assertThat(errors.get(3)).startsWith("error: " + config + ":" + lineOf(config, "/missing.crl") + ":")
                .contains("HTTP 404");
        assertThat(errors.get(4)).startsWith("error: " + config + ":" + lineOf(config, "/silent.crl") + ":")
                .containsPattern("no response within 700 ms \\(response timeout\\)|no complete response within 1 s");
        assertThat(out.toString()).contains(server.uri("/good.crl") + ": ok, issuer CN=certknock test CA")
                .contains(server.uri("/forged.crl") + ": FAILED: refused (BAD_SIGNATURE)")
                .contains(server.uri("/silent.crl") + ": FAILED: ");
    }

    @Test
    void aConfiguredCaWithoutAnyGoodSourceIsWarnedAbout() throws Exception {
        server.fail("/broken.crl", 500);
        Path config = config("/broken.crl");
        assertThat(run("check-config", "--online", config.toString())).isEqualTo(3);
        assertThat(err.toString()).contains("HTTP 500");
        assertThat(out.toString()).contains("warning: " + config + ":").contains(
                "no CRL source gave a CRL of the CA CN=certknock test CA");
    }

    @Test
    void nothingIsFetchedWhileTheCaCertificatesCannotBeRead() throws Exception {
        server.publish("/good.crl", f.ca.crl().build().getEncoded());
        Path config = config("/good.crl");
        Files.delete(dir.resolve("ca.pem"));
        assertThat(run("check-config", "--online", config.toString())).isEqualTo(3);
        assertThat(err.toString()).contains("cannot read the certificate");
        assertThat(out.toString()).contains("note: --online fetched no CRL source: fix the errors first");
        assertThat(server.requestCount("/good.crl")).isZero();
    }
}
