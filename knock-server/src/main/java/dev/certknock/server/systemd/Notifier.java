package dev.certknock.server.systemd;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends service manager notifications (sd_notify(3)): newline-separated {@code KEY=VALUE} assignments in one
 * datagram to the socket that {@code NOTIFY_SOCKET} names.
 */
public sealed interface Notifier permits Notifier.Off, LibsystemdNotifier, DatagramNotifier {

    /** Sends one message; IOException (with the reason) when it could not be sent. */
    void send(String state) throws IOException;

    /** Whether messages go anywhere (false: {@code NOTIFY_SOCKET} is unset, or nothing can reach it). */
    default boolean enabled() {
        return true;
    }

    /** Where messages go: nowhere. */
    record Off() implements Notifier {
        @Override
        public void send(String state) {
            // not run by systemd with Type=notify: nothing to tell
        }

        @Override
        public boolean enabled() {
            return false;
        }
    }

    /**
     * The notifier for this environment: {@link Off} when {@code NOTIFY_SOCKET} is unset or empty (nothing is
     * loaded, no thread started); libsystemd's {@code sd_notify} when it loads (it reads {@code NOTIFY_SOCKET}
     * from the process's own environment, which is what {@code env} is in production); otherwise the datagram
     * sent directly through libc; and when neither can be used, one WARN and {@link Off}.
     */
    static Notifier fromEnvironment(Map<String, String> env) {
        Logger log = LoggerFactory.getLogger(Notifier.class);
        String socket = env.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return new Off();
        }
        Optional<LibsystemdNotifier> lib = LibsystemdNotifier.load();
        if (lib.isPresent()) {
            log.debug("systemd notifications through libsystemd's sd_notify to {}", socket);
            return lib.get();
        }
        try {
            DatagramNotifier direct = DatagramNotifier.to(socket);
            log.info("libsystemd cannot be loaded: systemd notifications go to {} directly", socket);
            return direct;
        } catch (IllegalArgumentException | LinkageError e) {
            log.warn("NOTIFY_SOCKET is set but no notification can be sent ({}): the service manager gets no "
                    + "readiness, status or watchdog messages; install libsystemd0 or run with Type=simple", e.getMessage());
            return new Off();
        }
    }
}
