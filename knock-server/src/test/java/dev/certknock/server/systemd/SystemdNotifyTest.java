package dev.certknock.server.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.ServerFixture;
import dev.certknock.testing.pki.IssuedCertificate;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code knock-server run} as systemd runs it with {@code Type=notify}: a child JVM with {@code NOTIFY_SOCKET}
 * naming a datagram socket this test reads ({@link NotifySocketReader}), {@code WATCHDOG_USEC} (2 s: ticks and
 * liveness bound 1 s) and {@code JOURNAL_STREAM} naming the file its stderr goes to. A child process, because
 * libsystemd's sd_notify reads {@code NOTIFY_SOCKET} from the process environment.
 *
 * <p>The firewall is the {@code command} backend, whose open command sleeps 4 s: a knock holds a worker that long,
 * which is a real stall of the kind the liveness check looks for (no test hook in the server), and which ends by
 * itself.
 */
class SystemdNotifyTest {

    private static final Duration START = Duration.ofSeconds(90);
    private static final Pattern LISTENING = Pattern.compile("listening for knocks on udp /127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    private Process server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly().waitFor();
        }
    }

    private String log() throws Exception {
        Path log = dir.resolve("server.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    @Test
    void readyStatusWatchdogWhileAliveNoneWhileStalledAndStopping() throws Exception {
        ServerFixture f = new ServerFixture(Instant.now());
        IssuedCertificate alice = f.client("alice").build();
        Path config = f.writeConfig(dir, f.ca.crl().build(), """
                firewall:
                  backend: command
                  command:
                    open: [/bin/sleep, "4"]
                    close: [/bin/true]
                    stateFile: %s
                """.formatted(dir.resolve("command-grants.json")));
        Path logFile = Files.createFile(dir.resolve("server.log"));
        String socket = dir.resolve("notify.sock").toString();
        try (NotifySocketReader systemd = new NotifySocketReader(socket)) {
            // env resets the signals the build may have been started with ignored (nohup: SIGHUP), as systemd does.
            ProcessBuilder pb = new ProcessBuilder("env", "--default-signal=HUP,INT,TERM",
                    ProcessHandle.current().info().command().orElse("java"),
                    "-Dlogback.configurationFile=" + Path.of("src/main/resources/logback.xml").toAbsolutePath(),
                    "-cp", System.getProperty("java.class.path"),
                    "dev.certknock.server.cli.KnockServerCommand", "run", "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            pb.environment().put("NOTIFY_SOCKET", socket);
            pb.environment().put("WATCHDOG_USEC", "2000000");
            pb.environment().put("JOURNAL_STREAM", JournalStreamTest.devIno(logFile));
            pb.environment().remove("WATCHDOG_PID");
            server = pb.start();

            // READY=1, with the first STATUS=, once the server has started: at that moment the knock socket is
            // already bound (a second bind fails) and the start-up lines are written.
            int ready = systemd.await("READY=1", 0, m -> m.startsWith("READY=1\n"), START);
            String atReady = log();
            Matcher port = LISTENING.matcher(atReady);
            assertThat(port.find()).as("capture started before READY=1; log:%n%s", atReady).isTrue();
            InetSocketAddress knockAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    Integer.parseInt(port.group(1)));
            try (DatagramSocket s = new DatagramSocket(null)) {
                s.setReuseAddress(false);
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.bind(knockAddress))
                        .as("the knock socket is bound at READY=1").isInstanceOf(BindException.class);
            }
            assertThat(atReady).contains("started: 1 knock key(s)");
            assertThat(systemd.messages().subList(0, ready)).as("nothing before READY=1").isEmpty();
            assertThat(systemd.messages().get(ready)).startsWith("READY=1\nSTATUS=received 0, accepted 0, dropped {");

            // Alive: a ping at every tick (1 s), and the figures.
            int ping = systemd.await("a watchdog ping", ready + 1, "WATCHDOG=1"::equals, Duration.ofSeconds(10));
            systemd.await("a second ping", ping + 1, "WATCHDOG=1"::equals, Duration.ofSeconds(10));
            systemd.await("the figures", ready + 1, m -> m.startsWith("STATUS=received 0, accepted 0, dropped {"),
                    Duration.ofSeconds(10));

            // A knock whose open command takes 4 s holds a worker: past the 1 s bound the check fails, the pings stop
            // and the status says why; once the command returns, the pings come back.
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                byte[] knock = f.knock(alice, ServerFixture.ssh(120).withDeclaredIpv4(ServerFixture.ipv4("127.0.0.1")));
                s.send(new DatagramPacket(knock, knock.length, knockAddress));
            }
            int stalled = systemd.await("a stalled status", ping + 1,
                    m -> m.startsWith("STATUS=stalled: a worker has been on one knock for "), Duration.ofSeconds(15));
            int recovered = systemd.await("the pings again", stalled + 1, "WATCHDOG=1"::equals, Duration.ofSeconds(15));
            List<String> during = systemd.messages().subList(stalled, recovered);
            assertThat(during).as("no ping while stalled").noneMatch(m -> m.contains("WATCHDOG"));
            assertThat(during.stream().filter(m -> m.startsWith("STATUS=stalled: a worker has been on one knock for ")))
                    .as("stalled ticks while the worker slept (4 s, 1 s bound, 1 s ticks)").hasSizeGreaterThanOrEqualTo(2);
            systemd.await("the figures after the grant", recovered,
                    m -> m.startsWith("STATUS=received 1, accepted 1, dropped {}"), Duration.ofSeconds(10));

            // journald priorities: stderr is the stream JOURNAL_STREAM names, so every line starts with <N>.
            String log = log();
            assertThat(log).contains("<4>").containsPattern("(?m)^<4>\\S+ WARN  \\S+ - liveness check failed: a worker "
                    + "has been on one knock for");
            assertThat(log).containsPattern("(?m)^<6>\\S+ INFO  \\S+ - liveness check passes again$");
            assertThat(log.lines().filter(l -> !l.isEmpty()))
                    .allMatch(l -> l.matches("<[3467]>\\d{4}-\\d\\d-\\d\\dT.*"), "begin with a priority prefix");

            // SIGHUP (systemctl reload): RELOADING=1 while the reload runs, then READY=1 with what became of it.
            int beforeReload = systemd.messages().size();
            assertThat(new ProcessBuilder("kill", "-HUP", Long.toString(server.pid())).start().waitFor()).isZero();
            int reloading = systemd.await("RELOADING=1", beforeReload, m -> m.startsWith("RELOADING=1\nMONOTONIC_USEC="),
                    Duration.ofSeconds(15));
            systemd.await("READY=1 after the reload", reloading + 1, "READY=1\nSTATUS=reload applied"::equals,
                    Duration.ofSeconds(15));
            assertThat(server.isAlive()).as("a reload is not a stop").isTrue();

            // SIGTERM: STOPPING=1 first; the process exits 0 after its stop behaviour (the unit also accepts 143).
            int before = systemd.messages().size();
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
            systemd.await("STOPPING=1", before, m -> m.startsWith("STOPPING=1"), Duration.ofSeconds(5));
            assertThat(server.exitValue()).isZero();
            assertThat(systemd.messages().subList(before, systemd.messages().size()).stream()
                    .filter(m -> m.startsWith("STOPPING=1"))).as("STOPPING=1 once").hasSize(1);
            assertThat(log()).contains("knock-server stopped");
        }
    }
}
