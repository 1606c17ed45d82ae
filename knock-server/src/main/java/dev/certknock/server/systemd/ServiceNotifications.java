package dev.certknock.server.systemd;

import dev.certknock.server.event.LogText;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code knock-server run} tells systemd ({@code Type=notify}): {@code READY=1} with the first
 * {@code STATUS=} once the server has started (the firewall backend set up, its nftables table in place, and
 * the capture started: {@code KnockServer.start} has returned); {@code WATCHDOG=1} every tick only when the
 * watchdog is on ({@code WATCHDOG_USEC}, and {@code WATCHDOG_PID} unset or this process) and
 * {@link Liveness#check} says alive; while stalled, {@code STATUS=stalled: <reason>; <figures>} instead and one
 * WARN; {@code STATUS=} with the figures of the statistics line every tick; {@code STOPPING=1} at stop.
 *
 * <p>Two threads: the liveness check and the ping on one ({@code systemd-watchdog}), the figures on the other
 * ({@code systemd-status}). The figures read the grant ledger, whose lock a worker holds while the firewall
 * backend writes a batch (up to the backend's timeout); the check reads only what the threads leave behind, so
 * a worker stuck inside the ledger shows as a stall instead of holding up the check.
 *
 * <p>The tick is half the watchdog interval (sd_watchdog_enabled(3) advises pinging at that rate), at most
 * {@link #STATUS_EVERY}. The liveness bound is half the watchdog interval too, or {@link #DEFAULT_BOUND}
 * without a watchdog: a stall is seen within one tick of passing the bound, and systemd acts one watchdog
 * interval after the last ping.
 *
 * <p>With {@code NOTIFY_SOCKET} unset ({@link Notifier.Off}) nothing happens at all: no thread, no message.
 */
public final class ServiceNotifications implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceNotifications.class);
    /** Longest time between two status messages. */
    static final Duration STATUS_EVERY = Duration.ofSeconds(5);
    /** The liveness bound without a watchdog (the status still shows a stall). */
    static final Duration DEFAULT_BOUND = Duration.ofSeconds(30);

    private final java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
    private final Notifier notifier;
    private final Optional<Duration> watchdog;
    private final Liveness liveness;
    private final Supplier<String> status;
    private final List<ScheduledExecutorService> threads = new ArrayList<>();
    /** The last figures read, for the stalled status (the check thread never reads them itself). */
    private volatile String figures = "";
    /** Why the last check failed, or null when it passed. */
    private volatile String stalled;
    private boolean sendFailed;

    private ServiceNotifications(Notifier notifier, Optional<Duration> watchdog, Liveness liveness,
            Supplier<String> status) {
        this.notifier = notifier;
        this.watchdog = watchdog;
        this.liveness = liveness;
        this.status = status;
    }

    /**
     * Sends {@code READY=1} and starts the ticks; with {@link Notifier.Off}, nothing. Call once the server has
     * started.
     *
     * @param env    the environment ({@code WATCHDOG_USEC}, {@code WATCHDOG_PID})
     * @param vitals what the liveness check reads
     * @param status the figures for {@code STATUS=}
     */
    public static ServiceNotifications ready(Notifier notifier, Map<String, String> env, Supplier<Liveness.Vitals> vitals,
            Supplier<String> status) {
        Optional<Duration> watchdog = notifier.enabled() ? watchdogInterval(env, ProcessHandle.current().pid())
                : Optional.empty();
        Duration bound = watchdog.map(w -> w.dividedBy(2)).orElse(DEFAULT_BOUND);
        ServiceNotifications n = new ServiceNotifications(notifier, watchdog, new Liveness(vitals, bound), status);
        if (!notifier.enabled()) {
            return n;
        }
        n.figures = n.readFigures();
        n.send("READY=1\nSTATUS=" + n.figures);
        Duration tick = watchdog.map(w -> w.dividedBy(2)).filter(t -> t.compareTo(STATUS_EVERY) < 0).orElse(STATUS_EVERY);
        n.every("systemd-watchdog", tick, n::check);
        n.every("systemd-status", tick, n::status);
        LOG.info("systemd: ready; {}", watchdog.map(w -> "watchdog every " + w.toMillis() + " ms, pinged every "
                + tick.toMillis() + " ms while alive (liveness bound " + bound.toMillis() + " ms)")
                .orElse("no watchdog"));
        return n;
    }

    private void every(String name, Duration tick, Runnable task) {
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, name);
            thread.setDaemon(true);
            return thread;
        });
        threads.add(t);
        t.scheduleWithFixedDelay(task, tick.toNanos(), tick.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * The watchdog interval from {@code WATCHDOG_USEC}, when it is set, a positive number, and
     * {@code WATCHDOG_PID} is unset or {@code pid} (as sd_watchdog_enabled(3)); empty otherwise.
     */
    static Optional<Duration> watchdogInterval(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null || usec.isEmpty()) {
            return Optional.empty();
        }
        String forPid = env.get("WATCHDOG_PID");
        if (forPid != null && !forPid.isEmpty() && !forPid.equals(Long.toString(pid))) {
            return Optional.empty();
        }
        try {
            long micros = Long.parseLong(usec);
            if (micros > 0) {
                return Optional.of(Duration.ofNanos(Math.multiplyExact(micros, 1000L)));
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // refused below
        }
        LOG.warn("WATCHDOG_USEC '{}' is not a positive number of microseconds: the watchdog is not fed",
                LogText.of(usec));
        return Optional.empty();
    }

    /** The liveness check; a ping when it passes, the stalled status when it does not. */
    private void check() {
        try {
            Liveness.Health health = liveness.check();
            if (health instanceof Liveness.Stalled s) {
                if (stalled == null) {
                    LOG.warn("liveness check failed: {}; the systemd watchdog is not fed until it passes", s.reason());
                }
                stalled = s.reason();
                send("STATUS=stalled: " + s.reason() + "; " + figures);
                return;
            }
            if (stalled != null) {
                LOG.info("liveness check passes again");
                stalled = null;
                send("STATUS=" + figures);
            }
            if (watchdog.isPresent()) {
                send("WATCHDOG=1");
            }
        } catch (RuntimeException e) {
            // No ping this tick: a check that cannot run is not a pass.
            LOG.warn("liveness check failed to run: {}", LogText.of(e.toString()));
        }
    }

    /** The figures, marked stalled while the check fails. */
    private void status() {
        figures = readFigures();
        String why = stalled;
        send(why == null ? "STATUS=" + figures : "STATUS=stalled: " + why + "; " + figures);
    }

    private String readFigures() {
        try {
            return status.get().replace('\n', ' ');
        } catch (RuntimeException e) {
            return "figures unavailable: " + LogText.of(e.toString());
        }
    }

    private synchronized void send(String state) {
        try {
            notifier.send(state);
            if (sendFailed) {
                LOG.info("systemd notifications are sent again");
                sendFailed = false;
            }
        } catch (IOException e) {
            if (!sendFailed) {
                LOG.warn("systemd notification not sent: {}", LogText.of(e.getMessage()));
                sendFailed = true;
            }
        }
    }

    /**
     * Sends {@code RELOADING=1} (with {@code MONOTONIC_USEC}, the JVM's nanoTime being CLOCK_MONOTONIC on Linux):
     * a reload has started; systemd shows the unit as reloading until {@link #reloaded}.
     */
    public void reloading() {
        if (!notifier.enabled()) {
            return;
        }
        send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000 + "\nSTATUS=reloading");
    }

    /** Sends {@code READY=1} again after a reload, with what became of it in {@code STATUS=}. */
    public void reloaded(String outcome) {
        if (!notifier.enabled()) {
            return;
        }
        send("READY=1\nSTATUS=" + outcome);
    }

    /** Sends {@code STOPPING=1} and stops the ticks: call first at shutdown (once; later calls do nothing). */
    public void stopping() {
        if (!notifier.enabled() || !stopping.compareAndSet(false, true)) {
            return;
        }
        close();
        for (ScheduledExecutorService t : threads) {
            try {
                t.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        send("STOPPING=1\nSTATUS=stopping");
    }

    @Override
    public void close() {
        threads.forEach(ScheduledExecutorService::shutdownNow);
    }
}
