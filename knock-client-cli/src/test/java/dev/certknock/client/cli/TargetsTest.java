package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockContent;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code knock target add|list|remove} and knocking by target name. */
class TargetsTest {

    @TempDir
    Path dir;

    private CliPki pki;

    @BeforeEach
    void setUp() throws Exception {
        pki = new CliPki(dir);
    }

    @Test
    void addListKnockRemoveRoundTrip() throws Exception {
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            String port = Integer.toString(receiver.getLocalPort());
            int rc = pki.knock("target", "add", "gw1", "--host", "127.0.0.1", "--port", port, "--server-cert",
                    pki.serverPem.toString(), "--bundle", pki.bundle.toString(), "--grant", "tcp/22", "--grant",
                    "udp/8000-8001", "--duration", "45", "--targets", pki.targets.toString());
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.out.toString()).contains("added target gw1 (127.0.0.1) in " + pki.targets.toAbsolutePath());

            String yaml = Files.readString(pki.targets);
            assertThat(yaml).contains("targets:").contains("  gw1:").contains("host: 127.0.0.1")
                    .contains("port: " + port).contains("serverCert: " + pki.serverPem.toAbsolutePath())
                    .contains("bundle: " + pki.bundle.toAbsolutePath()).contains("- tcp/22").contains("- udp/8000-8001")
                    .contains("duration: 45").doesNotContain("alias").doesNotContain("caCert");
            try (Stream<Path> files = Files.list(pki.targets.getParent())) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactly("targets.yaml");
            }

            pki.reset();
            assertThat(pki.knock("target", "list", "--targets", pki.targets.toString())).isZero();
            assertThat(pki.out.toString()).startsWith("gw1  127.0.0.1 port " + port
                    + "  grants tcp/22 udp/8000-8001  45 s  bundle " + pki.bundle.toAbsolutePath());

            // The named target supplies host, port, certificates and default grants: only the password remains.
            pki.reset();
            rc = pki.knock("gw1", "--targets", pki.targets.toString(), "--password-file", pki.passwordFile.toString());
            assertThat(rc).as(pki.err.toString()).isZero();
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            receiver.setSoTimeout(5000);
            receiver.receive(p);
            KnockContent c = pki.opener().openAndVerify(Arrays.copyOf(p.getData(), p.getLength())).content();
            assertThat(c.grants()).containsExactly(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8001"));
            assertThat(c.durationSeconds()).isEqualTo(45);
            assertThat(pki.out.toString()).startsWith("sent a ").contains("127.0.0.1 port " + port);

            // Command-line grants and duration win over the target's.
            pki.reset();
            rc = pki.knock("gw1", "tcp/2200", "--duration", "30", "--targets", pki.targets.toString(),
                    "--password-file", pki.passwordFile.toString());
            assertThat(rc).as(pki.err.toString()).isZero();
            receiver.receive(p);
            c = pki.opener().openAndVerify(Arrays.copyOf(p.getData(), p.getLength())).content();
            assertThat(c.grants()).containsExactly(PortGrant.parse("tcp/2200"));
            assertThat(c.durationSeconds()).isEqualTo(30);

            pki.reset();
            assertThat(pki.knock("target", "remove", "gw1", "--targets", pki.targets.toString())).isZero();
            assertThat(pki.out.toString()).contains("removed target gw1");
            pki.reset();
            assertThat(pki.knock("target", "list", "--targets", pki.targets.toString())).isZero();
            assertThat(pki.out.toString()).startsWith("no targets in ");
        }
    }

    @Test
    void theTargetsFileComesFromTheEnvironmentOrTheHomeDirectory() throws Exception {
        Path fromEnv = dir.resolve("elsewhere.yaml");
        pki.env.put("CERTKNOCK_TARGETS", fromEnv.toString());
        assertThat(pki.knock("target", "add", "gw1", "--host", "gw1.example.test", "--server-cert",
                pki.serverPem.toString(), "--bundle", pki.bundle.toString())).isZero();
        assertThat(Files.readString(fromEnv)).contains("host: gw1.example.test");

        pki.env.clear();
        pki.reset();
        assertThat(pki.knock("target", "add", "gw2", "--host", "gw2.example.test", "--server-cert",
                pki.serverPem.toString(), "--bundle", pki.bundle.toString())).isZero();
        Path home = dir.resolve("home").resolve(".config").resolve("certknock").resolve("targets.yaml");
        assertThat(Files.readString(home)).contains("gw2:").doesNotContain("gw1:");
    }

    @Test
    void replacingRemovingAndBadInput() throws Exception {
        String[] add = {"target", "add", "gw1", "--host", "a.example.test", "--server-cert", pki.serverPem.toString(),
            "--bundle", pki.bundle.toString(), "--targets", pki.targets.toString()};
        assertThat(pki.knock(add)).isZero();
        add[4] = "b.example.test";
        pki.reset();
        assertThat(pki.knock(add)).as("a second add of the same name asks for --force").isEqualTo(3);
        assertThat(pki.err.toString()).isEqualTo("add: target gw1 exists already in " + pki.targets.toAbsolutePath()
                + ": add --force to replace it, or pick another name (knock target list shows it)"
                + System.lineSeparator());
        assertThat(Files.readString(pki.targets)).contains("a.example.test").doesNotContain("b.example.test");
        pki.reset();
        String[] force = java.util.Arrays.copyOf(add, add.length + 1);
        force[add.length] = "--force";
        assertThat(pki.knock(force)).isZero();
        assertThat(pki.out.toString()).startsWith("replaced target gw1 (b.example.test)");
        assertThat(Files.readString(pki.targets)).contains("b.example.test").doesNotContain("a.example.test");

        pki.reset();
        assertThat(pki.knock("target", "remove", "gw9", "--targets", pki.targets.toString())).isEqualTo(3);
        assertThat(pki.err.toString()).contains("no target named 'gw9' in ");

        pki.reset();
        assertThat(pki.knock("target", "add", "ssh-proxy", "--host", "x", "--server-cert", pki.serverPem.toString(),
                "--bundle", pki.bundle.toString(), "--targets", pki.targets.toString())).isEqualTo(3);
        assertThat(pki.err.toString()).contains("'ssh-proxy' is a knock subcommand: pick another target name");

        pki.reset();
        assertThat(pki.knock("target", "add", "gw2", "--host", "x", "--server-cert", dir.resolve("missing.pem").toString(),
                "--bundle", pki.bundle.toString(), "--targets", pki.targets.toString())).isEqualTo(3);
        assertThat(pki.err.toString()).contains("server certificate " + dir.resolve("missing.pem") + " does not exist");

        pki.reset();
        assertThat(pki.knock("target", "add", "gw2", "--host", "x", "--server-cert", pki.serverPem.toString(),
                "--bundle", pki.bundle.toString(), "--grant", "icmp/1", "--targets", pki.targets.toString())).isEqualTo(2);
        assertThat(pki.err.toString()).contains("unknown protocol 'icmp': use tcp or udp");
    }

    @Test
    void aBrokenTargetsFileIsReportedAsBadInput() throws Exception {
        Files.createDirectories(pki.targets.getParent());
        Files.writeString(pki.targets, "targets:\n  gw1:\n    hots: typo.example.test\n");
        assertThat(pki.knock("target", "list", "--targets", pki.targets.toString())).isEqualTo(3);
        assertThat(pki.err.toString()).contains("targets file " + pki.targets.toAbsolutePath() + " line 3, column 5 is not valid: ")
                .contains("hots");
    }
}
