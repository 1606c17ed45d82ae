package dev.certknock.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.certknock.server.ServerFixture;
import dev.certknock.server.crl.TricklingHttpSource;
import dev.certknock.testing.pki.IssuedCertificate;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return KnockServerCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void anAcceptableKnockIsExplained() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Path packet = dir.resolve("knock.bin");
        Files.write(packet, f.knock(alice, ServerFixture.ssh(60)));
        assertThat(run("verify", "--config", config.toString(), "--source", "198.51.100.7", "--at", "packet",
                packet.toString())).isZero();
        assertThat(out.toString()).contains("ACCEPTED at 2026-11-22T10:00:00Z: would open [tcp/22] for 198.51.100.7 for 60 s")
                .contains("CN=alice").contains(alice.certificate().getSerialNumber().toString(16));
        // Judged now (real time, weeks before the knock's timestamp): out of the window.
        out.getBuffer().setLength(0);
        assertThat(run("verify", "--config", config.toString(), "--source", "198.51.100.7", packet.toString()))
                .isEqualTo(VerifyCommand.DROPPED);
        assertThat(out.toString()).contains("DROPPED").contains("TIMESTAMP_")
                .as("issue 12: the certificate is named on a drop, and --at packet suggested")
                .contains("certificate CN=alice").contains("serial " + alice.certificate().getSerialNumber().toString(16))
                .contains("the knock says it was sent at 2026-11-22T10:00:00Z: run again with --at packet");
        // judged at a given instant, the hint is not given: the operator chose the time
        out.getBuffer().setLength(0);
        assertThat(run("verify", "--config", config.toString(), "--source", "198.51.100.7", "--at", "2026-11-23T10:00:00Z",
                packet.toString())).isEqualTo(VerifyCommand.DROPPED);
        assertThat(out.toString()).contains("TIMESTAMP_TOO_OLD").contains("certificate CN=alice").doesNotContain("--at packet");
    }

    /** Issue 12: verify's answer holds no INFO log lines (the CRL cache logs INFO under the test configuration). */
    @Test
    void verifyLogsNothingButWarnings() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Path packet = dir.resolve("knock.bin");
        Files.write(packet, f.knock(alice, ServerFixture.ssh(60)));
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events = new ch.qos.logback.core.read.ListAppender<>();
        events.start();
        root.addAppender(events);
        try {
            assertThat(run("verify", "--config", config.toString(), "--source", "198.51.100.7", "--at", "packet",
                    packet.toString())).isZero();
            assertThat(events.list).as("log events during verify").allSatisfy(e -> assertThat(e.getLevel())
                    .isIn(ch.qos.logback.classic.Level.WARN, ch.qos.logback.classic.Level.ERROR));
            // the levels are back afterwards: the same load logs its INFO line outside verify
            dev.certknock.server.app.KnockVerifier.at(dev.certknock.server.app.ServerMaterial.load(config),
                    java.time.Instant.parse("2026-11-22T10:00:00Z"));
            assertThat(events.list).as("the check above can fail: outside verify INFO is logged")
                    .anySatisfy(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.INFO));
        } finally {
            root.detachAppender(events);
        }
    }

    @Test
    void aSourceThatTricklesItsHeadersDoesNotHoldVerify() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Path packet = dir.resolve("knock.bin");
        Files.write(packet, f.knock(alice, ServerFixture.ssh(60)));
        try (TricklingHttpSource trickle = new TricklingHttpSource(Duration.ofMillis(200))) {
            // The trickling source first, the good file second; fetch deadline 1 s + 2 s.
            String yaml = Files.readString(config);
            String good = "    - url: " + dir.resolve("crl.der").toUri();
            Files.writeString(config, yaml.replace(good, "    - url: " + trickle.uri("/ca.crl") + "\n" + good)
                    .replace("  cacheDir: crl-cache", "  cacheDir: crl-cache\n  connectTimeout: 1s\n  responseTimeout: 2s"));
            long start = System.nanoTime();
            int exit = assertTimeoutPreemptively(Duration.ofSeconds(3 + 7), () -> run("verify", "--config", config.toString(),
                    "--source", "198.51.100.7", "--at", "packet", packet.toString()));
            assertThat(exit).as(err.toString()).isZero();
            assertThat(out.toString()).contains("ACCEPTED");
            assertThat(trickle.accepted()).isEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3 + 5));
        }
    }

    @Test
    void aRevokedKnockSaysWhyAsJson() throws Exception {
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().revoke(alice.certificate()).build(), "");
        Path packet = dir.resolve("knock.bin");
        Files.write(packet, f.knock(alice, ServerFixture.ssh(60)));
        assertThat(run("verify", "--config", config.toString(), "--source", "2001:db8::7", "--at", "2026-11-22T10:00:05Z",
                "--json", packet.toString())).isEqualTo(VerifyCommand.DROPPED);
        assertThat(out.toString()).contains("\"verdict\" : \"dropped\"").contains("\"reason\" : \"REVOKED\"")
                .contains("\"stage\" : \"RevocationCheck\"").contains("\"source\" : \"2001:db8:0:0:0:0:0:7\"")
                .contains("\"subject\" : \"CN=alice\"").contains("\"serial\" : \"" + alice.certificate().getSerialNumber().toString(16))
                .contains("\"revocation\" : {").contains("\"reason\" : \"KEY_COMPROMISE\"").contains("\"date\" : \"2026-11-22T");
        out.getBuffer().setLength(0);
        assertThat(run("verify", "--config", config.toString(), "--source", "2001:db8::7", "--at", "2026-11-22T10:00:05Z",
                packet.toString())).isEqualTo(VerifyCommand.DROPPED);
        assertThat(out.toString()).contains("DROPPED at 2026-11-22T10:00:05Z: REVOKED")
                .contains("certificate CN=alice, serial " + alice.certificate().getSerialNumber().toString(16))
                .containsPattern("revoked 2026-11-2[12]T[0-9:.]+Z, reason KEY_COMPROMISE");
    }

    @Test
    void badInputIsRefusedClearly() throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Path packet = dir.resolve("junk.bin");
        Files.write(packet, new byte[] {9, 9, 9});
        assertThat(run("verify", "--config", config.toString(), "--source", "gw1.example.test", packet.toString()))
                .isEqualTo(3);
        assertThat(err.toString()).contains("--source must be an IPv4 or IPv6 address literal");
        assertThat(run("verify", "--config", config.toString(), "--source", "127.0.0.1", "--at", "packet", packet.toString()))
                .isEqualTo(3);
        assertThat(err.toString()).contains("does not open with this server's key");
        assertThat(run("verify", "--config", config.toString(), "--source", "127.0.0.1", packet.toString()))
                .isEqualTo(VerifyCommand.DROPPED);
        assertThat(out.toString()).contains("DROPPED").contains("UNSUPPORTED_VERSION");
    }
}
