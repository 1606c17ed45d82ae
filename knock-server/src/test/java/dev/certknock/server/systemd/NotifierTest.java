package dev.certknock.server.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The notifier chosen from the environment, the libc datagram fallback against a real Unix datagram socket, and
 * the watchdog settings. libsystemd's sd_notify reads the process environment, so it is tested with a child
 * process in SystemdNotifyTest.
 */
class NotifierTest {

    @TempDir
    Path dir;

    @Test
    void withoutNotifySocketThereIsNothingAtAll() throws Exception {
        assertThat(Notifier.fromEnvironment(Map.of())).isEqualTo(new Notifier.Off());
        assertThat(Notifier.fromEnvironment(Map.of("NOTIFY_SOCKET", ""))).isEqualTo(new Notifier.Off());
        ServiceNotifications n = ServiceNotifications.ready(new Notifier.Off(), Map.of("WATCHDOG_USEC", "1000000"),
                () -> {
                    throw new AssertionError("no liveness check without a notify socket");
                }, () -> {
                    throw new AssertionError("no status without a notify socket");
                });
        n.stopping();
        n.close();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("systemd-notify"));
    }

    @Test
    void withNotifySocketLibsystemdIsUsedWhereItLoads() {
        Notifier n = Notifier.fromEnvironment(Map.of("NOTIFY_SOCKET", dir.resolve("n.sock").toString()));
        assertThat(n.enabled()).isTrue();
        assertThat(n).isInstanceOfAny(LibsystemdNotifier.class, DatagramNotifier.class);
        if (LibsystemdNotifier.load().isPresent()) {
            assertThat(n).isInstanceOf(LibsystemdNotifier.class);
        }
    }

    @Test
    void theDatagramFallbackReachesAPathSocketAndAnAbstractOne() throws Exception {
        String path = dir.resolve("notify.sock").toString();
        try (NotifySocketReader reader = new NotifySocketReader(path)) {
            DatagramNotifier.to(path).send("READY=1\nSTATUS=all good");
            reader.await("READY=1", 0, m -> m.equals("READY=1\nSTATUS=all good"), Duration.ofSeconds(10));
        }
        String name = "@certknock-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifySocketReader reader = new NotifySocketReader(name)) {
            DatagramNotifier.to(name).send("WATCHDOG=1");
            reader.await("WATCHDOG=1", 0, "WATCHDOG=1"::equals, Duration.ofSeconds(10));
        }
    }

    @Test
    void theDatagramFallbackSaysWhyItCannotSend() {
        assertThatThrownBy(() -> DatagramNotifier.to(dir.resolve("nobody-listens.sock").toString()).send("READY=1"))
                .isInstanceOf(IOException.class).hasMessageContaining("nobody-listens.sock").hasMessageContaining("errno 2");
        assertThatThrownBy(() -> DatagramNotifier.to("relative.sock")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neither an absolute path nor @abstract");
        assertThatThrownBy(() -> DatagramNotifier.to("/" + "x".repeat(120))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not fit a sockaddr_un");
    }

    @Test
    void theWatchdogIsOnlyForThisProcessAndAPositiveInterval() {
        assertThat(ServiceNotifications.watchdogInterval(Map.of(), 42)).isEmpty();
        assertThat(ServiceNotifications.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000"), 42))
                .hasValue(Duration.ofSeconds(30));
        assertThat(ServiceNotifications.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "42"), 42))
                .hasValue(Duration.ofSeconds(30));
        assertThat(ServiceNotifications.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "43"), 42))
                .isEmpty();
        for (String bad : new String[] {"0", "-5", "soon", "99999999999999999999"}) {
            assertThat(ServiceNotifications.watchdogInterval(Map.of("WATCHDOG_USEC", bad), 42)).as(bad).isEmpty();
        }
    }
}
