package dev.certknock.server.crl;

import dev.certknock.server.event.LogText;
import dev.certknock.server.schedule.PrivateScheduler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobExecutionContext;
import org.quartz.JobExecutionException;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the store's CRLs current on a Quartz schedule: every refresh interval, and also at the earliest
 * nextUpdate (and nextUpdate plus grace) of the CRLs held when that comes sooner. Each run loads the cache
 * (first run only), fetches every source, offers what it fetched to the store, saves accepted CRLs to the
 * cache, and lets the store report freshness changes.
 *
 * <p>Sources are fetched independently: one task per source on a small pool of at most
 * {@value #MAX_PARALLEL_FETCHES} threads, and each source's CRL is offered to the store as soon as it has
 * arrived. A fetch is bounded by the fetcher's hard deadline, so a stalled source costs its own slot for at
 * most that long and never delays the CRL of another source; a run waits for its tasks at most
 * {@link #runLimit()}. A source whose previous fetch has not finished is not fetched again until it has.
 *
 * <p>Failures are logged at WARN once per change of a source's state (not on every run) and the CRL held
 * stays in force; a source that works again is logged at INFO. The scheduler is private to this refresher:
 * its own instance name, one worker thread, an in-memory job store.
 */
public final class CrlRefresher implements AutoCloseable {

    /** Told about fetch failures (on every failed fetch, for metrics) and recoveries. */
    public interface SourceListener {
        void fetchFailed(URI source, String reason);

        default void fetchRecovered(URI source) {
        }
    }

    /** What one run did with one source; {@code update} is present when something was fetched. */
    public record SourceOutcome(CrlSource source, FetchResult fetch, Optional<CrlUpdate> update) {
    }

    /** The Quartz job; it only calls back into the refresher that scheduled it. Not for direct use. */
    @DisallowConcurrentExecution
    public static final class RefreshJob implements Job {
        @Override
        public void execute(JobExecutionContext context) throws JobExecutionException {
            try {
                ((CrlRefresher) context.getScheduler().getContext().get(CONTEXT_KEY)).runScheduled();
            } catch (SchedulerException e) {
                throw new JobExecutionException(e);
            }
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(CrlRefresher.class);
    private static final String CONTEXT_KEY = "certknock.crlRefresher";
    /** Threads fetching sources at once, at most. */
    static final int MAX_PARALLEL_FETCHES = 4;
    /** Time allowed on top of the fetch deadline for parsing, checking and saving a CRL. */
    private static final Duration OFFER_ALLOWANCE = Duration.ofSeconds(5);

    private final CrlSettings settings;
    private final CrlStore store;
    private final Clock clock;
    private final CrlFetcher fetcher;
    private final CrlCache cache;
    private final Scheduler scheduler;
    private final JobKey jobKey = JobKey.jobKey("refresh", "crl");
    private final TriggerKey intervalKey = TriggerKey.triggerKey("interval", "crl");
    private final TriggerKey nextUpdateKey = TriggerKey.triggerKey("next-update", "crl");
    private final ReentrantLock runLock = new ReentrantLock();
    private final List<SourceListener> listeners = new CopyOnWriteArrayList<>();
    /** The problem last logged per source. */
    private final Map<URI, String> problems = new ConcurrentHashMap<>();
    /** Fetches sources; at most one task per source is queued or running (see {@link #inFlight}). */
    private final ThreadPoolExecutor fetchers;
    /** Sources whose fetch task has not finished. */
    private final Set<CrlSource> inFlight = ConcurrentHashMap.newKeySet();
    private boolean cacheLoaded;
    private boolean started;
    private boolean closed;

    /**
     * @param settings sources, interval, cache directory, timeouts and limits
     * @param store    the store to keep current
     * @param clock    the store's clock (nextUpdate is compared with it)
     */
    public CrlRefresher(CrlSettings settings, CrlStore store, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.cache = new CrlCache(settings.cachePath(), settings.maxBytes());
        this.fetcher = new CrlFetcher(settings);
        int sources = Math.max(1, settings.sources().size());
        int threads = Math.min(sources, MAX_PARALLEL_FETCHES);
        AtomicInteger n = new AtomicInteger();
        this.fetchers = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(sources),
                r -> {
                    Thread t = new Thread(r, "crl-fetch-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        fetchers.allowCoreThreadTimeOut(true);
        try {
            this.scheduler = PrivateScheduler.create("crl-refresh", Duration.ofSeconds(5));
            scheduler.getContext().put(CONTEXT_KEY, this);
            JobDetail job = JobBuilder.newJob(RefreshJob.class).withIdentity(jobKey).storeDurably().build();
            scheduler.addJob(job, true);
        } catch (SchedulerException e) {
            fetchers.shutdownNow();
            fetcher.close();
            throw new IllegalStateException("could not create the CRL refresh scheduler: " + e.getMessage(), e);
        }
    }

    public void addListener(SourceListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** The cache this refresher loads and saves. */
    public CrlCache cache() {
        return cache;
    }

    /**
     * Runs one refresh now and waits for it (and for a scheduled run in progress): for {@code verify} and in
     * tests; at most {@link #runLimit()} plus a run in progress. The first run loads the cache before fetching, so that
     * the cached CRL numbers also guard against rollback by a source.
     */
    public List<SourceOutcome> refreshNow() {
        List<SourceOutcome> outcomes = runOnce();
        scheduleNextUpdateCheck();
        return outcomes;
    }

    /**
     * Loads the cache into the store (once; later calls do nothing) and has the store report freshness: local
     * disk only, no network. The first run does this too.
     */
    public void loadCache() {
        runLock.lock();
        try {
            loadCacheOnce();
            store.checkFreshness();
        } finally {
            runLock.unlock();
        }
    }

    /**
     * Runs a refresh at once on the scheduler's thread, without waiting for it: start-up uses it so that
     * nothing waits on the network. Requires {@link #start}.
     */
    public void refreshSoon() {
        try {
            scheduler.triggerJob(jobKey);
        } catch (SchedulerException e) {
            LOG.warn("Could not start a CRL refresh now: {}; the interval schedule goes on", e.getMessage());
        }
    }

    /** The longest a run waits for its sources: every round of fetches (a round per pool size) up to its deadline. */
    Duration runLimit() {
        int rounds = (settings.sources().size() + MAX_PARALLEL_FETCHES - 1) / MAX_PARALLEL_FETCHES;
        return fetcher.deadline().plus(OFFER_ALLOWANCE).multipliedBy(Math.max(1, rounds));
    }

    /**
     * Starts the schedule. The first scheduled run is one interval from now (call {@link #refreshNow} first
     * to fetch at once), or sooner if a held CRL's nextUpdate comes first.
     */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the CRL refresher is closed");
        }
        if (started) {
            return;
        }
        long intervalMillis = settings.refreshInterval().toMillis();
        Trigger interval = TriggerBuilder.newTrigger().withIdentity(intervalKey).forJob(jobKey)
                .startAt(new Date(System.currentTimeMillis() + intervalMillis))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule().withIntervalInMilliseconds(intervalMillis)
                        .repeatForever().withMisfireHandlingInstructionNextWithRemainingCount())
                .build();
        try {
            scheduler.scheduleJob(interval);
            scheduler.start();
        } catch (SchedulerException e) {
            throw new IllegalStateException("could not start the CRL refresh scheduler: " + e.getMessage(), e);
        }
        started = true;
        LOG.info("CRL refresh scheduled every {} for {} source(s); cache {}", settings.refreshInterval(),
                settings.sources().size(), settings.cachePath());
        scheduleNextUpdateCheck();
    }

    /** When the schedule fires next (interval or nextUpdate, whichever is sooner), if started. */
    public Optional<Instant> nextRun() {
        try {
            Instant next = null;
            for (TriggerKey key : List.of(intervalKey, nextUpdateKey)) {
                Trigger t = scheduler.getTrigger(key);
                Date fire = t == null ? null : t.getNextFireTime();
                if (fire != null && (next == null || fire.toInstant().isBefore(next))) {
                    next = fire.toInstant();
                }
            }
            return Optional.ofNullable(next);
        } catch (SchedulerException e) {
            return Optional.empty();
        }
    }

    void runScheduled() {
        try {
            runOnce();
            scheduleNextUpdateCheck();
        } catch (RuntimeException e) {
            LOG.error("CRL refresh run failed unexpectedly; the CRLs held stay in force", e);
        }
    }

    private void loadCacheOnce() {
        if (!cacheLoaded) {
            cacheLoaded = true;
            int loaded = cache.loadInto(store);
            LOG.info("Loaded {} CRL(s) from the cache {}", loaded, settings.cachePath());
        }
    }

    private List<SourceOutcome> runOnce() {
        runLock.lock();
        try {
            loadCacheOnce();
            List<CrlSource> sources = settings.sources();
            List<Future<SourceOutcome>> tasks = new ArrayList<>(sources.size());
            for (CrlSource source : sources) {
                tasks.add(submit(source));
            }
            long until = System.nanoTime() + runLimit().toNanos();
            List<SourceOutcome> outcomes = new ArrayList<>(sources.size());
            for (int i = 0; i < sources.size(); i++) {
                outcomes.add(await(sources.get(i), tasks.get(i), until));
            }
            store.checkFreshness();
            return outcomes;
        } finally {
            runLock.unlock();
        }
    }

    /** A task fetching the source, or a done failure when its previous fetch is still running. */
    private Future<SourceOutcome> submit(CrlSource source) {
        if (!inFlight.add(source)) {
            return CompletableFuture.completedFuture(failed(source,
                    "the previous fetch of this source has not finished"));
        }
        try {
            return fetchers.submit(() -> {
                try {
                    return refresh(source);
                } finally {
                    inFlight.remove(source);
                }
            });
        } catch (RejectedExecutionException e) {
            inFlight.remove(source);
            return CompletableFuture.completedFuture(failed(source, "the refresher is closed"));
        }
    }

    private SourceOutcome await(CrlSource source, Future<SourceOutcome> task, long until) {
        try {
            return task.get(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // The fetch is past its own deadline and something (e.g. a name look-up) still holds it; it goes on
            // alone and may still deliver; this run does not wait for it.
            return failed(source, "no result within " + runLimit().toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new SourceOutcome(source, new FetchResult.Failed("interrupted"), Optional.empty());
        } catch (ExecutionException e) {
            return failed(source, "unexpected failure: " + CrlParser.describe(e.getCause()));
        }
    }

    private SourceOutcome failed(CrlSource source, String reason) {
        FetchResult.Failed failed = new FetchResult.Failed(reason);
        reportFailure(source, failed);
        return new SourceOutcome(source, failed, Optional.empty());
    }

    private void reportFailure(CrlSource source, FetchResult.Failed failed) {
        problem(source, "fetch failed: " + failed.reason());
        for (SourceListener l : listeners) {
            try {
                l.fetchFailed(source.uri(), failed.reason());
            } catch (RuntimeException e) {
                LOG.warn("CRL source listener {} failed", l, e);
            }
        }
    }

    private SourceOutcome refresh(CrlSource source) {
        FetchResult fetched = fetcher.fetch(source);
        if (fetched instanceof FetchResult.Failed failed) {
            reportFailure(source, failed);
            return new SourceOutcome(source, fetched, Optional.empty());
        }
        if (fetched instanceof FetchResult.NotModified) {
            LOG.debug("CRL source {}: not modified", source);
            recovered(source);
            return new SourceOutcome(source, fetched, Optional.empty());
        }
        CrlUpdate update = store.offer(((FetchResult.Fetched) fetched).body(), source.toString());
        if (update instanceof CrlUpdate.Rejected rejected) {
            fetcher.forget(source); // fetch it in full next time: the store may take it then (e.g. clocks fixed)
            problem(source, "CRL rejected (" + rejected.reason() + "): " + rejected.message());
        } else {
            recovered(source);
            if (update instanceof CrlUpdate.Accepted accepted) {
                save(accepted);
            }
        }
        return new SourceOutcome(source, fetched, Optional.of(update));
    }

    private void save(CrlUpdate.Accepted accepted) {
        try {
            Path file = cache.save(accepted);
            LOG.debug("Saved CRL {} of {} to {}", accepted.crlNumber(), accepted.issuer().getName(), file);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not save CRL {} of {} to the cache {}: {}; it is in force, but a restart without a "
                    + "reachable source would not have it", accepted.crlNumber(), accepted.issuer().getName(),
                    settings.cachePath(), CrlParser.describe(e));
        }
    }

    private void problem(CrlSource source, String description) {
        String before = problems.put(source.uri(), description);
        if (description.equals(before)) {
            LOG.debug("CRL source {} still failing: {}", source, LogText.of(description));
            return;
        }
        LOG.warn("CRL source {}: {}; the CRLs held stay in force ({}); retrying every {}", source, LogText.of(description),
                held(), settings.refreshInterval());
    }

    private void recovered(CrlSource source) {
        if (problems.remove(source.uri()) == null) {
            return;
        }
        LOG.info("CRL source {} works again", source);
        for (SourceListener l : listeners) {
            try {
                l.fetchRecovered(source.uri());
            } catch (RuntimeException e) {
                LOG.warn("CRL source listener {} failed", l, e);
            }
        }
    }

    private String held() {
        List<CrlInfo> infos = store.infos();
        if (infos.isEmpty()) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        for (CrlInfo i : infos) {
            b.append(b.length() == 0 ? "" : "; ").append(i.issuer().getName()).append(" number ").append(i.crlNumber())
                    .append(" nextUpdate ").append(i.nextUpdate());
        }
        return b.toString();
    }

    /**
     * Schedules a one-shot run at the earliest future nextUpdate, or nextUpdate plus grace, of the CRLs held
     * when that comes before the next interval run; removes it otherwise.
     */
    private synchronized void scheduleNextUpdateCheck() {
        if (closed) {
            return;
        }
        Instant now = clock.instant();
        Optional<Instant> due = store.infos().stream()
                .flatMap(i -> java.util.stream.Stream.of(i.nextUpdate(), i.staleAfter()))
                .filter(t -> t.isAfter(now))
                .min(Instant::compareTo);
        try {
            Trigger interval = scheduler.getTrigger(intervalKey);
            Date intervalFire = interval == null ? null : interval.getNextFireTime();
            Date when = due.map(d -> new Date(System.currentTimeMillis() + Duration.between(now, d).toMillis()))
                    .orElse(null);
            if (when == null || intervalFire == null || !when.before(intervalFire)) {
                scheduler.unscheduleJob(nextUpdateKey);
                return;
            }
            Trigger oneShot = TriggerBuilder.newTrigger().withIdentity(nextUpdateKey).forJob(jobKey).startAt(when)
                    .withSchedule(SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow())
                    .build();
            if (scheduler.checkExists(nextUpdateKey)) {
                scheduler.rescheduleJob(nextUpdateKey, oneShot);
            } else {
                scheduler.scheduleJob(oneShot);
            }
            LOG.debug("Extra CRL refresh scheduled at {} (a CRL's nextUpdate comes before the next interval run)",
                    due.get());
        } catch (SchedulerException e) {
            LOG.warn("Could not schedule a CRL refresh at the next nextUpdate ({}): {}; the interval schedule goes on",
                    due.orElse(null), e.getMessage());
        }
    }

    /** Aborts the fetches under way, closes the HTTP client and stops the schedule, waiting for a run in progress to end. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        fetcher.close(); // fetches under way fail at once, so the run in progress ends promptly
        fetchers.shutdownNow();
        try {
            scheduler.shutdown(true);
        } catch (SchedulerException e) {
            LOG.warn("Could not shut the CRL refresh scheduler down cleanly: {}", e.getMessage());
        }
    }
}
