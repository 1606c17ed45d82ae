package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockContent;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code knock HOST GRANT...} end to end through run(), against a UDP receiver on loopback. */
class KnockSendTest {

    @TempDir
    Path dir;

    private CliPki pki;
    private DatagramSocket receiver;
    private String knockPort;

    @BeforeEach
    void setUp() throws Exception {
        pki = new CliPki(dir);
        receiver = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        knockPort = Integer.toString(receiver.getLocalPort());
    }

    @AfterEach
    void tearDown() {
        receiver.close();
    }

    private KnockContent receive() throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        receiver.setSoTimeout(5000);
        receiver.receive(p);
        return pki.opener().openAndVerify(Arrays.copyOf(p.getData(), p.getLength())).content();
    }

    private void assertNothingReceived() throws Exception {
        receiver.setSoTimeout(300);
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        try {
            receiver.receive(p);
            throw new AssertionError("a datagram arrived: " + p.getLength() + " bytes");
        } catch (SocketTimeoutException expected) {
            // nothing sent
        }
    }

    @Test
    void sendsAKnockWithThePasswordFromAFile() throws Exception {
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "udp/8000-8010", "--knock-port", knockPort,
                "--duration", "120", "--declare-ip", "203.0.113.9", "--reply-timeout", "0.2"));
        assertThat(rc).as(pki.err.toString()).isZero();
        KnockContent c = receive();
        assertThat(c.grants()).containsExactly(PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8010"));
        assertThat(c.durationSeconds()).isEqualTo(120);
        assertThat(c.declaredIpv4()).hasValueSatisfying(a -> assertThat(a.getHostAddress()).isEqualTo("203.0.113.9"));
        assertThat(pki.out.toString()).matches("(?s)sent a \\d+-byte knock to 127\\.0\\.0\\.1 port " + knockPort
                + " from port \\d+: tcp/22 udp/8000-8010 for 120 s, declaring 203\\.0\\.113\\.9\\R");
        // This receiver never replies: sent, unconfirmed, still a success.
        assertThat(pki.err.toString()).isEqualTo("knock: sent; no reply within 0.2 s (a v1 server, or the knock or its "
                + "reply was lost; a server also stays silent when it refuses a knock: check your grants and the "
                + "clocks)" + System.lineSeparator());
    }

    @Test
    void readsThePasswordFromANamedEnvironmentVariable() throws Exception {
        pki.env.put("ALICE_P12_PASSWORD", CliPki.PASSWORD);
        int rc = pki.knock("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--bundle", pki.bundle.toString(),
                "--password-env", "ALICE_P12_PASSWORD", "--server-cert", pki.serverPem.toString(), "--verbose");
        assertThat(rc).as(pki.err.toString()).isZero();
        assertThat(receive().grants()).containsExactly(PortGrant.parse("tcp/22"));
        assertThat(pki.out.toString()).contains("  timestamp   ").contains("ms since the epoch, UTC")
                .contains("  client      CN=alice").doesNotContain(CliPki.PASSWORD);
    }

    @Test
    void anUnsetPasswordVariableIsAUsageError() throws Exception {
        int rc = pki.knock("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--bundle", pki.bundle.toString(),
                "--password-env", "NOT_SET", "--server-cert", pki.serverPem.toString());
        assertThat(rc).isEqualTo(2);
        assertThat(pki.err.toString()).isEqualTo("knock: environment variable NOT_SET (--password-env) is not set"
                + System.lineSeparator());
        assertNothingReceived();
    }

    @Test
    void withoutAPasswordSourceOrATerminalItSaysWhatToDo() throws Exception {
        int rc = pki.knock("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--bundle", pki.bundle.toString(),
                "--server-cert", pki.serverPem.toString());
        assertThat(rc).isEqualTo(2);
        assertThat(pki.err.toString()).isEqualTo("knock: no terminal to ask for the password of bundle " + pki.bundle
                + ": use --password-file FILE or --password-env NAME, or give the target a passwordFile (knock target add "
                + "--password-file)" + System.lineSeparator());
    }

    @Test
    void aWrongPasswordMeansBadCredentials() throws Exception {
        Files.writeString(pki.passwordFile, "not it\n");
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", knockPort));
        assertThat(rc).isEqualTo(4);
        assertThat(pki.err.toString()).contains("knock: the password does not open bundle " + pki.bundle);
        assertNothingReceived();
    }

    @Test
    void dryRunSavesTheExactPacketAndSendsNothing() throws Exception {
        Path packet = dir.resolve("out").resolve("knock.bin");
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/2222", "--knock-port", knockPort, "--dry-run",
                "--save-packet", packet.toString(), "--duration", "90"));
        assertThat(rc).as(pki.err.toString()).isZero();
        byte[] saved = Files.readAllBytes(packet);
        KnockContent c = pki.opener().openAndVerify(saved).content();
        assertThat(c.grants()).containsExactly(PortGrant.parse("tcp/2222"));
        assertThat(c.durationSeconds()).isEqualTo(90);
        assertThat(c.certificate()).isEqualTo(pki.client.certificate());
        assertThat(pki.out.toString()).startsWith("dry run, nothing sent: a " + saved.length
                + "-byte knock for 127.0.0.1 port " + knockPort + ": tcp/2222 for 90 s")
                .contains("saved the datagram to " + packet);
        assertNothingReceived();
    }

    @Test
    void savePacketWritesTheDatagramThatWasSent() throws Exception {
        Path packet = dir.resolve("sent.bin");
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--save-packet",
                packet.toString()));
        assertThat(rc).as(pki.err.toString()).isZero();
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        receiver.setSoTimeout(5000);
        receiver.receive(p);
        assertThat(Files.readAllBytes(packet)).isEqualTo(Arrays.copyOf(p.getData(), p.getLength()));
    }

    @Test
    void aGrantTheCertificateLacksExitsNotPermitted() throws Exception {
        int rc = pki.knock(pki.credentials("127.0.0.1", "udp/53", "--knock-port", knockPort));
        assertThat(rc).isEqualTo(11);
        assertThat(pki.err.toString()).startsWith("knock: your certificate does not grant udp/53: it grants tcp/22, ");
        assertNothingReceived();
    }

    @Test
    void aDurationOverTheCertificateMaximumExitsNotPermitted() throws Exception {
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--duration", "3600"));
        assertThat(rc).isEqualTo(11);
        assertThat(pki.err.toString()).contains("you asked for 3600 s but your certificate allows at most 300 s");
    }

    @Test
    void aServerCertificateFromAnotherCaIsBadInput() throws Exception {
        var other = dev.certknock.testing.pki.TestCa.root("CN=other root", pki.clock);
        var stranger = other.leaf("CN=gw1.example.test").ipAddress("127.0.0.1").extendedKeyUsage(
                dev.certknock.protocol.grant.CertknockOids.KP_SERVER.getId()).build();
        Path pem = Files.writeString(dir.resolve("stranger.pem"), CliPki.pem(stranger.certificate()));
        int rc = pki.knock("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--bundle", pki.bundle.toString(),
                "--password-file", pki.passwordFile.toString(), "--server-cert", pem.toString());
        assertThat(rc).isEqualTo(3);
        assertThat(pki.err.toString()).contains("does not chain to your CA (CN=certknock test root)");
        assertNothingReceived();
    }

    @Test
    void aMissingOrInvalidServerCertificateFileIsBadInput() throws Exception {
        int rc = pki.knock("127.0.0.1", "tcp/22", "--bundle", pki.bundle.toString(), "--password-file",
                pki.passwordFile.toString(), "--server-cert", dir.resolve("nope.pem").toString());
        assertThat(rc).isEqualTo(3);
        assertThat(pki.err.toString()).contains("server certificate " + dir.resolve("nope.pem") + " does not exist");
        pki.reset();
        Path junk = Files.writeString(dir.resolve("junk.pem"), "hello");
        rc = pki.knock("127.0.0.1", "tcp/22", "--bundle", pki.bundle.toString(), "--password-file",
                pki.passwordFile.toString(), "--server-cert", junk.toString());
        assertThat(rc).isEqualTo(3);
        assertThat(pki.err.toString()).contains("is not a PEM or DER certificate");
    }

    /**
     * The server certificate is read beside the bundle (DESIGN.md D42), and its failure still wins, as when it was
     * read first: over a missing password file, over a wrong password, and before any password prompt.
     */
    @Test
    void aBadServerCertificateIsReportedBeforeAnythingAboutTheBundle() throws Exception {
        Path missing = dir.resolve("nope.pem");
        int rc = pki.knock("127.0.0.1", "tcp/22", "--bundle", pki.bundle.toString(), "--password-file",
                dir.resolve("no-password.txt").toString(), "--server-cert", missing.toString());
        assertThat(rc).isEqualTo(3);
        assertThat(pki.err.toString()).isEqualTo("knock: server certificate " + missing + " does not exist"
                + System.lineSeparator());

        pki.reset();
        Files.writeString(pki.passwordFile, "not it\n");
        Path junk = Files.writeString(dir.resolve("junk.pem"), "hello");
        rc = pki.knock("127.0.0.1", "tcp/22", "--bundle", pki.bundle.toString(), "--password-file",
                pki.passwordFile.toString(), "--server-cert", junk.toString());
        assertThat(rc).isEqualTo(3);
        assertThat(pki.err.toString()).contains("is not a PEM or DER certificate").doesNotContain("password");

        // No password source: the prompt would come from the console; it is never asked for.
        pki.reset();
        AtomicBoolean asked = new AtomicBoolean();
        CliContext prompting = new CliContext(k -> null, InputStream.nullInputStream(), pki.stdout, () -> {
            asked.set(true);
            return null;
        }, dir.resolve("home"), null);
        rc = KnockCommand.run(prompting, new PrintWriter(pki.out), new PrintWriter(pki.err), "127.0.0.1", "tcp/22",
                "--bundle", pki.bundle.toString(), "--server-cert", missing.toString());
        assertThat(rc).isEqualTo(3);
        assertThat(pki.err.toString()).contains("server certificate " + missing + " does not exist");
        assertThat(asked).isFalse();
        assertNothingReceived();
    }

    /** With a good server certificate read beside it, a bundle's failure is still the bundle's. */
    @Test
    void aBundleFailureBesideAGoodServerCertificateIsTheBundles() throws Exception {
        int rc = pki.knock("127.0.0.1", "tcp/22", "--bundle", dir.resolve("none.p12").toString(), "--password-file",
                pki.passwordFile.toString(), "--server-cert", pki.serverPem.toString(), "--dry-run");
        assertThat(rc).isNotZero();
        assertThat(pki.err.toString()).contains(dir.resolve("none.p12").toString()).doesNotContain("server certificate");
    }

    @Test
    void aHostWithoutCredentialsIsAUsageErrorThatSaysWhatIsMissing() {
        int rc = pki.knock("gw9", "tcp/22", "--targets", pki.targets.toString());
        assertThat(rc).isEqualTo(2);
        assertThat(pki.err.toString()).contains("knock: 'gw9' is not a target in " + pki.targets.toAbsolutePath()
                + ": to knock on it as a host, give --bundle and --server-cert (or add it: knock target add)");
    }

    @Test
    void noGrantsIsAUsageError() {
        int rc = pki.knock(pki.credentials("127.0.0.1", "--knock-port", knockPort));
        assertThat(rc).isEqualTo(2);
        assertThat(pki.err.toString()).contains("no grants to ask for: name them, e.g. knock 127.0.0.1 tcp/22");
        pki.reset();
        assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp22"))).isEqualTo(2);
        assertThat(pki.err.toString()).contains("grant 'tcp22' has no protocol");
    }

    @Test
    void waitReportsThePortOpen() throws Exception {
        try (ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String tcp = "tcp/" + listening.getLocalPort();
            int rc = pki.knock(pki.credentials("127.0.0.1", "--wait", "5", tcp, "--knock-port", knockPort));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.out.toString()).contains("open: 127.0.0.1 " + tcp + " accepts connections after ")
                    .contains("(1 attempt, 1 knock sent)");
            assertThat(pki.err.toString()).contains("knock: waiting up to 5 s for 127.0.0.1 " + tcp);
        }
    }

    @Test
    void waitTimesOutWithItsOwnExitCode() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/" + closed, "--knock-port", knockPort, "--wait=2",
                "--no-reply"));
        assertThat(rc).isEqualTo(10);
        assertThat(pki.out.toString()).startsWith("sent a ");
        assertThat(pki.err.toString()).contains("knock: not open after ").contains("knocked again (knock 2, from port ")
                .contains("knock: timed out: 127.0.0.1 tcp/" + closed + " did not accept a connection within ")
                .contains("4 knocks sent");
        for (int i = 0; i < 4; i++) {
            assertThat(receive().grants()).containsExactly(PortGrant.parse("tcp/" + closed));
        }
    }

    @Test
    void waitWithoutAValueBeforeAGrantWaitsTheDefault() throws Exception {
        try (ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String tcp = "tcp/" + listening.getLocalPort();
            int rc = pki.knock(pki.credentials("127.0.0.1", "--wait", tcp, "--knock-port", knockPort));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(receive().grants()).containsExactly(PortGrant.parse(tcp));
            assertThat(pki.err.toString()).contains("knock: waiting up to 30 s for 127.0.0.1 " + tcp);
            assertThat(pki.out.toString()).contains("open: 127.0.0.1 " + tcp);
        }
    }

    @Test
    void waitWithoutATcpGrantIsAUsageError() {
        int rc = pki.knock(pki.credentials("127.0.0.1", "udp/8000", "--wait"));
        assertThat(rc).isEqualTo(2);
        assertThat(pki.err.toString()).contains("--wait confirms a TCP port, and no TCP grant is requested");
    }

    @Test
    void theRouteAddressIsDeclaredByDefaultAndAutoIsGone() throws Exception {
        int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", knockPort, "--no-reply", "-4"));
        assertThat(rc).as(pki.err.toString()).isZero();
        assertThat(receive().declaredIpv4()).hasValueSatisfying(a -> assertThat(a.getHostAddress()).isEqualTo("127.0.0.1"));
        assertThat(pki.out.toString()).contains("declaring 127.0.0.1");
        assertThat(pki.err.toString()).isEmpty();
        pki.reset();
        assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--declare-ip", "auto"))).isEqualTo(2);
        assertThat(pki.err.toString()).contains("--declare-ip auto is gone: a knock v2 declares the local address of "
                + "the route to the server (or the address the server last reported) by itself");
        pki.reset();
        assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--declare-ip", "gw1.example.test"))).isEqualTo(2);
        assertThat(pki.err.toString()).contains("--declare-ip gw1.example.test is not an IPv4 or IPv6 address");
        assertNothingReceived();
    }
}
