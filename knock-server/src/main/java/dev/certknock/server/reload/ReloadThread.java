package dev.certknock.server.reload;

import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs reloads on a thread of its own, never on the thread that asked (a signal handler only calls
 * {@link #request}, which sets a flag). Requests that arrive while a reload runs are coalesced into one more
 * reload after it, since the files may have changed after the running one read them; any number of requests
 * during a reload cost one reload, not one each.
 */
public final class ReloadThread implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReloadThread.class);

    private final Supplier<ReloadResult> reload;
    private final Thread thread;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private boolean requested;
    /** Guarded by lock. */
    private boolean closed;
    /** Reloads run so far (for tests and the log). Guarded by lock. */
    private long runs;
    private volatile ReloadResult last;

    /** @param reload one reload, start to end (the server's {@code reload()}); called on this thread only */
    public ReloadThread(Supplier<ReloadResult> reload) {
        this.reload = Objects.requireNonNull(reload, "reload");
        this.thread = new Thread(this::loop, "knock-reload");
        thread.setDaemon(true);
        thread.start();
    }

    /** Asks for a reload; returns at once. Safe from any thread, including a signal handler's. */
    public void request() {
        synchronized (lock) {
            requested = true;
            lock.notifyAll();
        }
    }

    /** Reloads run so far. */
    public long runs() {
        synchronized (lock) {
            return runs;
        }
    }

    /** What the last reload did, or null before the first. */
    public ReloadResult last() {
        return last;
    }

    private void loop() {
        while (true) {
            synchronized (lock) {
                while (!requested && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                requested = false;
            }
            try {
                last = reload.get();
            } catch (RuntimeException | Error e) {
                // reload() reports its own failures; this is a bug, and the next request may still work
                LOG.error("reload failed unexpectedly; the running configuration stays in force", e);
            }
            synchronized (lock) {
                runs++;
                lock.notifyAll();
            }
        }
    }

    /** Stops the thread; a reload under way finishes first (at most a few seconds: it waits on no network). */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
