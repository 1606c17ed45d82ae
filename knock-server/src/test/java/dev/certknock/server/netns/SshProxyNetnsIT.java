package dev.certknock.server.netns;

import static dev.certknock.server.netns.TestNetwork.in;
import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.ServerFixture;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.wait.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ssh recipes of docs/CLIENT.md section 4, run exactly as printed there (read from the file): a real OpenSSH
 * server (Debian's /usr/sbin/sshd) on tcp/22 in the server namespace, which knock-server protects with nftables;
 * {@code ssh} in a client namespace with {@code knock ssh-proxy} as its ProxyCommand ({@code bin/knock}, the
 * launcher a checkout's user runs) runs a remote command through the port the knock opened. The host name
 * gw1.example.test resolves in the client namespace only ({@code /etc/netns/NS/hosts}, which {@code ip netns exec}
 * mounts over /etc/hosts), so the server certificate's name is checked as for a real server. The password comes
 * from the target's passwordFile, or is typed at the prompt on the terminal (a pseudo-terminal from python3's pty),
 * which ssh leaves its ProxyCommand. Root, ip, nft, python3, libpcap, sshd and ssh; skipped with a message otherwise.
 */
class SshProxyNetnsIT {

    private static final int KNOCK_PORT = 62201;
    private static final Path CLIENT_MD = Path.of("../docs/CLIENT.md").toAbsolutePath().normalize();
    /** The remote command: says from where to where the connection came (client address and port, server's). */
    private static final String REMOTE = "echo certknock-ssh-ok $SSH_CONNECTION";
    private static final String VIA = "certknock-ssh-ok " + TestNetwork.CLIENT1_4 + " ";
    private static final String CONNECT = String.join("\n",
            "import socket, sys",
            "try:",
            "    socket.create_connection((sys.argv[1], 22), timeout=1.0).close(); sys.exit(0)",
            "except OSError:",
            "    sys.exit(1)");
    /** Runs argv[1:] on a new pseudo-terminal, types the line read from stdin at the password prompt, echoes all. */
    private static final String PTY = String.join("\n",
            "import os, pty, select, sys, time",
            "password = sys.stdin.readline().rstrip('\\n').encode()",
            "pid, fd = pty.fork()",
            "if pid == 0:",
            "    os.execvp(sys.argv[1], sys.argv[1:])",
            "out = b''; typed = False; end = time.monotonic() + 60",
            "while time.monotonic() < end:",
            "    r, _, _ = select.select([fd], [], [], 0.2)",
            "    if not r: continue",
            "    try: data = os.read(fd, 4096)",
            "    except OSError: break",
            "    if not data: break",
            "    out += data",
            "    if not typed and b'Password for ' in out:",
            "        os.write(fd, password + b'\\n'); typed = True",
            "else:",
            "    os.kill(pid, 9)",
            "_, status = os.waitpid(pid, 0)",
            "sys.stdout.buffer.write(out); sys.stdout.flush()",
            "sys.exit(os.waitstatus_to_exitcode(status))");

    @TempDir
    Path dir;

    private TestNetwork net;
    private final List<Process> processes = new ArrayList<>();
    private ServerFixture f;
    private Path serverLog;
    private Path sshdLog;
    private Path home;
    private Path hostsDir;
    private boolean createdRunSshd;

    @BeforeEach
    void setUp() throws Exception {
        TestNetwork.requireRoot("ip", "nft", "python3", "ssh", "ssh-keygen", "/usr/sbin/sshd");
        TestNetwork.requireLibpcap();
        Path knock = Path.of("../bin/knock").toAbsolutePath().normalize();
        Assumptions.assumeTrue(clientBuilt(), "the client jar is not built (run the whole reactor: ./mvnw verify)");
        net = TestNetwork.create();
        f = new ServerFixture(Instant.now());
        Path config = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(config, Files.readString(config)
                .replace("capture:\n  address: 127.0.0.1\n  port: 0\n",
                        "capture:\n  mode: pcap\n  interface: any\n  port: " + KNOCK_PORT + "\n")
                + "firewall:\n  backend: nftables\n");
        startSshd();
        serverLog = dir.resolve("server.log");
        Process server = new ProcessBuilder(in(net.server, TestNetwork.javaCommand(), "-Dlogback.configurationFile="
                        + Path.of("src/main/resources/logback.xml").toAbsolutePath(), "-cp", TestNetwork.classPath(),
                "dev.certknock.server.cli.KnockServerCommand", "run", "--config", config.toString()))
                .redirectErrorStream(true).redirectOutput(serverLog.toFile()).start();
        processes.add(server);
        Await.until("knock-server to start", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> read(serverLog).contains("started:") || !server.isAlive());
        assertThat(server.isAlive()).as("knock-server runs; its log:%n%s", read(serverLog)).isTrue();

        // Alice's files, and her name for the server, in the client namespace only
        IssuedCertificate alice = f.client("alice").build();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("alice", alice.privateKey(), ServerFixture.PASSWORD, alice.chain().toArray(new Certificate[0]));
        try (var out = Files.newOutputStream(dir.resolve("alice.p12"))) {
            ks.store(out, ServerFixture.PASSWORD);
        }
        Files.writeString(dir.resolve("gw1.pem"), ServerFixture.pem("CERTIFICATE", f.server.certificate().getEncoded()));
        Files.writeString(dir.resolve("alice.pass"), new String(ServerFixture.PASSWORD) + "\n");
        hostsDir = Path.of("/etc/netns", net.client1);
        Files.createDirectories(hostsDir);
        Files.writeString(hostsDir.resolve("hosts"), "127.0.0.1 localhost\n" + TestNetwork.SERVER4_LINK1
                + " gw1.example.test\n");
        home = Files.createDirectories(dir.resolve("home"));
        assertThat(knock).exists();
    }

    private void startSshd() throws Exception {
        Path sshd = Files.createDirectories(dir.resolve("sshd"));
        TestNetwork.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshd.resolve("host_key").toString());
        TestNetwork.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("id_ed25519").toString());
        Files.copy(dir.resolve("id_ed25519.pub"), sshd.resolve("authorized_keys"));
        Path conf = Files.writeString(sshd.resolve("sshd_config"), String.join("\n",
                "Port 22",
                "ListenAddress 0.0.0.0",
                "HostKey " + sshd.resolve("host_key"),
                "PidFile none",
                "UsePAM no",
                "StrictModes no",
                "AuthorizedKeysFile " + sshd.resolve("authorized_keys"),
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "") );
        Path privsep = Path.of("/run/sshd"); // Debian's sshd wants its privilege separation directory
        if (!Files.isDirectory(privsep)) {
            Files.createDirectories(privsep);
            createdRunSshd = true;
        }
        sshdLog = dir.resolve("sshd.log");
        Process p = new ProcessBuilder(in(net.server, "/usr/sbin/sshd", "-D", "-e", "-f", conf.toString()))
                .redirectErrorStream(true).redirectOutput(sshdLog.toFile()).start();
        processes.add(p);
        Await.until("sshd to listen", Duration.ofSeconds(10), Duration.ofMillis(50),
                () -> TestNetwork.exitCode(in(net.server, "python3", "-c", CONNECT, "127.0.0.1")) == 0 || !p.isAlive());
        assertThat(p.isAlive()).as("sshd runs; its log:%n%s", read(sshdLog)).isTrue();
    }

    @AfterEach
    void tearDown() throws IOException {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (hostsDir != null) {
            Files.deleteIfExists(hostsDir.resolve("hosts"));
            Files.deleteIfExists(hostsDir);
        }
        if (net != null) {
            net.close();
        }
        if (createdRunSshd) {
            Files.deleteIfExists(Path.of("/run/sshd"));
        }
    }

    private static boolean clientBuilt() {
        Path target = Path.of("../knock-client-cli/target").toAbsolutePath().normalize();
        try (var files = Files.exists(target) ? Files.list(target) : java.util.stream.Stream.<Path>empty()) {
            return files.anyMatch(p -> p.getFileName().toString().matches("knock-client-cli-.*-all\\.jar"));
        } catch (IOException e) {
            return false;
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The environment of a user at a terminal: bin/knock on the PATH, HOME at Alice's home (not Java's user.home). */
    private List<String> asAlice(String... command) {
        List<String> argv = new ArrayList<>(List.of("env", "-u", "XDG_CONFIG_HOME", "-u", "XDG_CACHE_HOME", "-u",
                "CERTKNOCK_TARGETS", "HOME=" + home, "PATH=" + Path.of("../bin").toAbsolutePath().normalize() + ":"
                        + Path.of(TestNetwork.javaCommand()).getParent() + ":/usr/sbin:/usr/bin:/sbin:/bin",
                "JAVA=" + TestNetwork.javaCommand(), "CERTKNOCK_CDS=off"));
        argv.addAll(List.of(command));
        return in(net.client1, argv.toArray(new String[0]));
    }

    private record Run(int exit, String output) {
    }

    private Run run(List<String> argv, String stdin) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        processes.add(p);
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("%s finishes", argv).isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** The ssh options of a test user who has no ~/.ssh: the key, the server's host key accepted. */
    private List<String> sshOptions() {
        return List.of("-i", dir.resolve("id_ed25519").toString(), "-o", "IdentitiesOnly=yes", "-o",
                "UserKnownHostsFile=" + dir.resolve("known_hosts"), "-o", "StrictHostKeyChecking=accept-new", "-o",
                "ConnectTimeout=60");
    }

    private boolean reachable() {
        return TestNetwork.exitCode(in(net.client1, "python3", "-c", CONNECT, TestNetwork.SERVER4_LINK1)) == 0;
    }

    /** The fenced block of section 4 that starts with {@code startsWith}, as printed. */
    private static String recipe(String startsWith) throws IOException {
        String doc = Files.readString(CLIENT_MD);
        int from = doc.indexOf("## 4. ");
        int to = doc.indexOf("\n## 5. ", from);
        assertThat(from).as("docs/CLIENT.md has section 4").isPositive();
        Matcher m = Pattern.compile("```\\n(" + Pattern.quote(startsWith) + ".*?)\\n```", Pattern.DOTALL)
                .matcher(doc.substring(from, to));
        assertThat(m.find()).as("docs/CLIENT.md section 4 has a block starting with %s", startsWith).isTrue();
        return m.group(1);
    }

    /** The target Alice adds once, as section 4 prints it (~ is her home, where her files are copied). */
    private void addTarget(boolean withPasswordFile) throws Exception {
        String add = recipe("$ knock target add gw1");
        String command = add.lines().findFirst().orElseThrow().substring(2).replace("\\", "");
        for (String line : add.lines().skip(1).toList()) {
            if (!line.startsWith("      ")) {
                break;
            }
            command += " " + line.strip().replace("\\", "");
        }
        command = command.replaceAll(" +", " ").strip();
        assertThat(command).isEqualTo("knock target add gw1 --host gw1.example.test --grant tcp/22 --bundle "
                + "~/certknock/alice.p12 --server-cert ~/certknock/gw1.pem --password-file ~/certknock/alice.pass");
        Path files = Files.createDirectories(home.resolve("certknock"));
        for (String name : List.of("alice.p12", "gw1.pem", "alice.pass")) {
            Files.copy(dir.resolve(name), files.resolve(name));
        }
        if (!withPasswordFile) {
            command = command.replace(" --password-file ~/certknock/alice.pass", "");
        }
        // the CA certificate separately: the fixture's bundle carries the client certificate's chain without the root
        Run r = run(asAlice("sh", "-c", command + " --ca-cert " + dir.resolve("ca.pem")), null);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).isEqualTo("added target gw1 (gw1.example.test) in " + home
                + "/.config/certknock/targets.yaml\n");
    }

    @Test
    void sshWithTheProxyCommandOfTheDocsRunsARemoteCommandThroughTheOpenedPort() throws Exception {
        addTarget(true);
        String ssh = recipe("$ ssh -o ProxyCommand=");
        assertThat(ssh).isEqualTo("$ ssh -o ProxyCommand='knock ssh-proxy gw1 %p' alice@gw1.example.test");
        assertThat(reachable()).as("tcp/22 is shut before the knock").isFalse();
        // as printed, with root's key for alice (the test's sshd has one user) and the remote command
        String command = ssh.substring(2).replace("ssh ", "ssh " + String.join(" ", sshOptions()) + " ")
                .replace("alice@", "root@") + " '" + REMOTE + "'";
        long start = System.nanoTime();
        Run r = run(asAlice("sh", "-c", command), null);
        assertThat(r.exit()).as("ssh exits 0; it said:%n%s%nsshd:%n%s%nserver:%n%s", r.output(), read(sshdLog),
                read(serverLog)).isZero();
        assertThat(r.output()).contains(VIA).contains(" " + TestNetwork.SERVER4_LINK1 + " 22");
        assertThat(read(serverLog)).contains("accepted");
        System.out.printf("ssh through knock ssh-proxy (password file): %d ms%n%s",
                Duration.ofNanos(System.nanoTime() - start).toMillis(), r.output());

        // the port ssh asks for is not in the target's grants: said, not a silent wait
        Run wrong = run(asAlice("sh", "-c", ssh.substring(2).replace("ssh ", "ssh -p 2222 "
                + String.join(" ", sshOptions()) + " ").replace("alice@", "root@") + " true"), null);
        assertThat(wrong.exit()).isEqualTo(255);
        assertThat(wrong.output()).contains("ssh-proxy: target gw1 asks for tcp/22 by default, and none contains "
                + "tcp/2222, the port ssh connects to");
        System.out.printf("ssh -p 2222 through knock ssh-proxy:%n%s", wrong.output());
    }

    @Test
    void sshWithTheConfigOfTheDocsPromptsForThePasswordOnTheTerminal() throws Exception {
        addTarget(false);
        String config = recipe("Host gw1.example.test");
        assertThat(config).isEqualTo("Host gw1.example.test\n    ProxyCommand knock ssh-proxy gw1 %p");
        Path sshConfig = Files.writeString(dir.resolve("ssh_config"), config + "\n");
        assertThat(reachable()).as("tcp/22 is shut before the knock").isFalse();
        List<String> ssh = new ArrayList<>(List.of("ssh", "-F", sshConfig.toString()));
        ssh.addAll(sshOptions());
        ssh.addAll(List.of("root@gw1.example.test", REMOTE));
        List<String> argv = new ArrayList<>(List.of("python3", "-c", PTY));
        argv.addAll(asAlice(ssh.toArray(new String[0])));
        Run r = run(argv, new String(ServerFixture.PASSWORD) + "\n");
        assertThat(r.exit()).as("ssh exits 0; the terminal showed:%n%s%nsshd:%n%s", r.output(), read(sshdLog)).isZero();
        assertThat(r.output()).contains("Password for alice.p12: ")
                .contains(VIA).contains(" " + TestNetwork.SERVER4_LINK1 + " 22")
                .as("typed without echo").doesNotContain(new String(ServerFixture.PASSWORD));
        System.out.printf("ssh through knock ssh-proxy (terminal prompt):%n%s", r.output());
    }
}
