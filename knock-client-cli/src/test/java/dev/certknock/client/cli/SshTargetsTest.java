package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12: ssh-proxy takes its password from the target's passwordFile and knocks for the grant that contains the
 * port ssh asks for; the server certificate must name the host; the targets file's place and its errors.
 */
class SshTargetsTest {

    @TempDir
    Path dir;

    private CliPki pki;

    @BeforeEach
    void setUp() throws Exception {
        pki = new CliPki(dir);
    }

    private static ServerSocket echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                } catch (IOException e) {
                    // closed
                }
            }
        }, "echo-server");
        t.setDaemon(true);
        t.start();
        return server;
    }

    private int addTarget(String name, String host, int knockPort, String... more) {
        String[] base = {"target", "add", name, "--host", host, "--port", Integer.toString(knockPort),
            "--server-cert", pki.serverPem.toString(), "--bundle", pki.bundle.toString(), "--targets",
            pki.targets.toString()};
        String[] all = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return pki.knock(all);
    }

    @Test
    void sshProxyReadsTheTargetsPasswordFileAndKnocksForTheGrantThatContainsThePort() throws Exception {
        pki.stdin = "SSH-2.0-test\r\n".getBytes(StandardCharsets.US_ASCII);
        try (ServerSocket echo = echoServer();
                DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = echo.getLocalPort();
            assertThat(addTarget("lh", "127.0.0.1", receiver.getLocalPort(), "--grant", "udp/5353", "--grant",
                    "tcp/" + port, "--password-file", pki.passwordFile.toString())).as(pki.err.toString()).isZero();
            assertThat(Files.readString(pki.targets)).contains("passwordFile: " + pki.passwordFile.toAbsolutePath());
            pki.reset();
            // no --password-file, no --password-env, no terminal: the target's file
            int rc = pki.knock("ssh-proxy", "lh", Integer.toString(port), "--targets", pki.targets.toString());
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.stdout.toString(StandardCharsets.US_ASCII)).isEqualTo("SSH-2.0-test\r\n");
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            receiver.setSoTimeout(5000);
            receiver.receive(p);
            assertThat(pki.opener().openAndVerify(Arrays.copyOf(p.getData(), p.getLength())).content().grants())
                    .as("only the target's grant that contains the port").containsExactly(PortGrant.parse("tcp/" + port));
        }
    }

    @Test
    void aPortNoneOfTheTargetsGrantsContainsIsRefusedBeforeAnythingIsSentOrAsked() throws Exception {
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            assertThat(addTarget("lh", "127.0.0.1", receiver.getLocalPort(), "--grant", "tcp/8080")).isZero();
            pki.reset();
            // no password source either: the port is checked first
            int rc = pki.knock("ssh-proxy", "lh", "8081", "--targets", pki.targets.toString());
            assertThat(rc).isEqualTo(2);
            assertThat(pki.err.toString()).isEqualTo("ssh-proxy: target lh asks for tcp/8080 by default, and none contains "
                    + "tcp/8081, the port ssh connects to: connect to a port of the target's grants (ssh -p), name the "
                    + "grant after the port (knock ssh-proxy lh %p tcp/8081), or add it to the target (knock target add "
                    + "--force ... --grant tcp/8081)" + System.lineSeparator());
            pki.reset();
            rc = pki.knock(pki.credentials("ssh-proxy", "lh", "8081", "tcp/8080", "--targets", pki.targets.toString()));
            assertThat(rc).isEqualTo(2);
            assertThat(pki.err.toString()).contains("none of the grants named (tcp/8080) contains tcp/8081");
            receiver.setSoTimeout(300);
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> receiver.receive(p)))
                    .as("nothing sent").isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    @Test
    void anotherServersCertificateIsRefusedWithExit3AndServerNameOverridesDeliberately() throws Exception {
        try (DatagramSocket receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            String knockPort = Integer.toString(receiver.getLocalPort());
            // the test server certificate names gw1.example.test, localhost, 127.0.0.1 and ::1, not 127.0.0.2
            int rc = pki.knock(pki.credentials("127.0.0.2", "tcp/22", "--knock-port", knockPort));
            assertThat(rc).isEqualTo(3);
            assertThat(pki.err.toString()).isEqualTo("knock: the server certificate 'CN=gw1.example.test' is not for "
                    + "127.0.0.2: it names gw1.example.test, localhost, 127.0.0.1, 0:0:0:0:0:0:0:1. A knock sealed to "
                    + "another server's key is dropped unread by the server at 127.0.0.2: use the certificate of the "
                    + "server you knock on, or knock on a name the certificate lists; or, when it is that server under "
                    + "another name (an address, say), say which name its certificate carries: --server-name NAME "
                    + "(knock target add --server-name for a target)" + System.lineSeparator());
            pki.reset();
            rc = pki.knock(pki.credentials("localhost", "tcp/22", "--knock-port", knockPort, "--dry-run"));
            assertThat(rc).as(pki.err.toString()).isZero();
            pki.reset();
            rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--server-name",
                    "gw9.example.test", "--dry-run"));
            assertThat(rc).as("--server-name is checked too").isEqualTo(3);
            assertThat(pki.err.toString()).contains("is not for gw9.example.test");
            pki.reset();
            assertThat(addTarget("byaddr", "127.0.0.1", receiver.getLocalPort(), "--server-name", "gw1.example.test",
                    "--grant", "tcp/22")).isZero();
            assertThat(Files.readString(pki.targets)).contains("serverName: gw1.example.test");
            pki.reset();
            rc = pki.knock("byaddr", "--targets", pki.targets.toString(), "--password-file", pki.passwordFile.toString(),
                    "--dry-run");
            assertThat(rc).as(pki.err.toString()).isZero();
        }
    }

    @Test
    void theConfigurationDirectoryFollowsXdgConfigHomeThenHome() {
        Map<String, String> env = new HashMap<>();
        Path home = Path.of("/home/alice");
        assertThat(dev.certknock.client.cli.target.TargetStore.locate(null, env::get, home))
                .isEqualTo(Path.of("/home/alice/.config/certknock/targets.yaml"));
        env.put("XDG_CONFIG_HOME", "relative/ignored");
        assertThat(dev.certknock.client.cli.target.TargetStore.locate(null, env::get, home))
                .isEqualTo(Path.of("/home/alice/.config/certknock/targets.yaml"));
        env.put("XDG_CONFIG_HOME", "/srv/cfg");
        assertThat(dev.certknock.client.cli.target.TargetStore.locate(null, env::get, home))
                .isEqualTo(Path.of("/srv/cfg/certknock/targets.yaml"));
        env.put("CERTKNOCK_TARGETS", "/etc/t.yaml");
        assertThat(dev.certknock.client.cli.target.TargetStore.locate(null, env::get, home)).isEqualTo(Path.of("/etc/t.yaml"));
        assertThat(dev.certknock.client.cli.target.TargetStore.locate(Path.of("x.yaml"), env::get, home))
                .isEqualTo(Path.of("x.yaml"));
        // $HOME, not Java's user.home (from the password database)
        assertThat(CliContext.home(Map.of("HOME", "/tmp/h")::get, Path.of("/root"))).isEqualTo(Path.of("/tmp/h"));
        assertThat(CliContext.home(Map.<String, String>of()::get, Path.of("/root"))).isEqualTo(Path.of("/root"));
        assertThat(CliContext.home(Map.of("HOME", "rel")::get, Path.of("/root"))).isEqualTo(Path.of("/root"));
    }

    @Test
    void targetsFileErrorsSayFileLineColumnAndWhatInPlainWords() throws Exception {
        Files.createDirectories(pki.targets.getParent());
        String file = pki.targets.toAbsolutePath().toString();
        String[][] cases = {
            {"targets:\n  gw1:\n    hots: typo.example.test\n",
                "targets file " + file + " line 3, column 5 is not valid: unknown key 'hots' in target 'gw1': the keys are "
                    + "alias, bundle, caCert, duration, grants, host, passwordFile, port, serverCert, serverName"},
            {"targets:\n  gw1:\n    host: a\n    port: many\n",
                "targets file " + file + " line 4, column 5 is not valid: key 'port' of target 'gw1' should be a whole "
                    + "number, not 'many'"},
            {"targets:\n  gw1:\n    host: a\n    grants: tcp/22\n",
                "targets file " + file + " line 4, column 5 is not valid: key 'grants' of target 'gw1' should be a list, "
                    + "e.g. [tcp/22, udp/8000-8100]"},
            {"targets:\n  gw1:\n    host: [a, b]\n",
                "targets file " + file + " line 3, column 5 is not valid: key 'host' of target 'gw1' should be a single "
                    + "value (text)"},
            {"tragets:\n  gw1:\n    host: a\n",
                "targets file " + file + " line 1, column 1 is not valid: unknown key 'tragets' in the file: the keys are "
                    + "targets"},
        };
        for (String[] c : cases) {
            Files.writeString(pki.targets, c[0]);
            pki.reset();
            assertThat(pki.knock("target", "list", "--targets", pki.targets.toString())).as(c[0]).isEqualTo(3);
            assertThat(pki.err.toString()).as(c[0]).isEqualTo("list: " + c[1]
                    + " (fix it in the file; docs/CLIENT.md section 3 shows one)" + System.lineSeparator());
        }
        Files.writeString(pki.targets, "targets:\n  gw1:\n    host: a\n   port: 1\n");
        pki.reset();
        assertThat(pki.knock("target", "list", "--targets", pki.targets.toString())).isEqualTo(3);
        assertThat(pki.err.toString()).isEqualTo("list: targets file " + file + " line 4, column 4 is not valid YAML: "
                + "expected <block end>, but found '<block mapping start>' (check the indentation: the keys of one target "
                + "line up under it; and a colon and a space after each key)" + System.lineSeparator());
    }
}
