package dev.certknock.server.reload;

/**
 * Told around each reload, on the thread that runs it: e.g. a service manager notifier that sends
 * {@code RELOADING=1} before and {@code READY=1} after. A listener must return quickly and must not throw; what it
 * throws is logged and the reload goes on.
 */
public interface ReloadListener {

    /** A reload starts: the configuration is about to be read. */
    default void reloading() {
    }

    /** The reload ended: applied, or refused with the running configuration still in force. */
    default void reloaded(ReloadResult result) {
    }
}
