package dev.certknock.server.systemd;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sd_notify(0, state)} of libsystemd ({@code libsystemd.so.0}, Debian package {@code libsystemd0}) through
 * JNA. libsystemd reads {@code NOTIFY_SOCKET} itself, from the process environment, and leaves it set
 * ({@code unset_environment} 0: messages are sent for the whole run). The programs the server starts never see
 * it: they get {@code PATH} and {@code LANG}/{@code LC_ALL} only ({@code dev.certknock.server.process.ChildEnvironment}).
 */
public final class LibsystemdNotifier implements Notifier {

    private static final Logger LOG = LoggerFactory.getLogger(LibsystemdNotifier.class);

    /** The part of libsystemd's API used here (sd_notify(3)). */
    interface Libsystemd extends Library {
        int sd_notify(int unsetEnvironment, String state);
    }

    private final Libsystemd lib;

    private LibsystemdNotifier(Libsystemd lib) {
        this.lib = lib;
    }

    /** The notifier, or empty (the reason at DEBUG) when libsystemd cannot be loaded. */
    static Optional<LibsystemdNotifier> load() {
        try {
            return Optional.of(new LibsystemdNotifier(Native.load("libsystemd.so.0", Libsystemd.class)));
        } catch (LinkageError e) { // UnsatisfiedLinkError when the library or the symbol is missing
            LOG.debug("libsystemd cannot be loaded: {}", e.toString());
            return Optional.empty();
        }
    }

    @Override
    public void send(String state) throws IOException {
        int rc = lib.sd_notify(0, state);
        if (rc < 0) {
            throw new IOException("sd_notify failed: errno " + -rc);
        }
        if (rc == 0) {
            throw new IOException("sd_notify sent nothing: NOTIFY_SOCKET is not set in the process environment");
        }
    }
}
