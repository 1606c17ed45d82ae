package dev.certknock.server.reload;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The signals {@code knock-server run} handles itself (jdk.unsupported's {@link Signal}): SIGHUP asks for a reload,
 * SIGTERM and SIGINT ask for a stop. The handlers only pass the request on (a flag, a latch): the work runs on the
 * reload thread and on the main thread. Handling SIGTERM and SIGINT here, rather than in a shutdown hook, is what
 * lets the server run its stop behaviour and exit 0 (the JVM's own handlers exit 143 and 130).
 */
public final class Signals {

    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    /**
     * Installs the handlers. A signal that cannot be handled (the JVM runs with {@code -Xrs}, or the platform has no
     * such signal) is logged and keeps the JVM's default.
     *
     * @return true when all three are handled here
     */
    public static boolean install(Runnable onReload, Runnable onStop) {
        boolean all = handle("HUP", onReload);
        all &= handle("TERM", onStop);
        all &= handle("INT", onStop);
        return all;
    }

    private static boolean handle(String name, Runnable action) {
        try {
            SignalHandler before = Signal.handle(new Signal(name), s -> action.run());
            if (before == SignalHandler.SIG_IGN) {
                // The JVM keeps a shutdown signal ignored when the process started with it ignored (nohup, or a
                // background job of a non-interactive shell): the handler above is never called.
                LOG.warn("SIG{} was ignored when the server started (nohup, or a shell's background job), and stays "
                        + "ignored: {}", name, "HUP".equals(name) ? "kill -HUP does not reload; reload by restarting, "
                        + "or start the server without nohup (systemd: systemctl reload)" : "stop the server with SIGTERM");
                return false;
            }
            return true;
        } catch (IllegalArgumentException e) {
            LOG.warn("cannot handle SIG{} ({}): it keeps the JVM's default{}", name, e.getMessage(),
                    "HUP".equals(name) ? " (the process ends): reload by restarting" : " (exit status 128 + signal)");
            return false;
        }
    }
}
