package dev.certknock.server.dispatch;

import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.PublicKeyBudget;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.pipeline.SourceRateLimit;
import dev.certknock.server.pipeline.Stage;
import dev.certknock.server.ratelimit.SourceKey;
import dev.certknock.server.ratelimit.SourceRateLimiter;
import dev.certknock.server.ratelimit.TokenBucket;
import java.util.ArrayList;
import java.util.List;
import dev.certknock.server.pipeline.Outcome;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * A bounded queue, fair by source ({@link FairQueue}: a lane per IPv4 address or IPv6 /64, served
 * round-robin), feeding a fixed pool of workers that run the pipeline. {@link #offer} never blocks: a
 * datagram that finds no room is dropped and counted ({@link DropReason#QUEUE_FULL}), or, if its source
 * has fewer datagrams queued than the source with the most, takes the place of that source's oldest
 * (which is dropped and counted instead). So the capture keeps up whatever the load, and a flood from
 * one source or many cannot keep a clean source's knock out of the queue or make it wait behind more
 * than one datagram per source queued in its tier (and the lower tiers' turns). No thread per packet.
 *
 * <p>When the pipeline keeps per-source standing ({@link SourceRateLimit}), the lanes are served in four
 * tiers, by {@link SourceRateLimiter.Standing} (docs/DESIGN.md D24): sources whose knock verified recently
 * first, then sources with no failure charged recently (every new source among them), then sources
 * charged recently, then sources out of failures. The last two are penalised: served together at no more
 * than {@link #PENALISED_SHARE_OF_BUDGET} of the public-key budget's rate, at most
 * {@link #PENALISED_SHARE} datagrams queued each, and sources out of failures only while the budget has
 * spare ({@link PublicKeyBudget#hasSpare}), as the pipeline would only open their datagrams with that. So
 * a flood from sources that keep failing decryption is refused at the queue for the cost of a lookup
 * instead of an HPKE open or a worker's turn, while a first knock from a new source is served ahead of
 * it. No tier starves ({@link FairQueue#LOWER_TIER_TURN}).
 *
 * <p>A knock whose decision waits for an answer from elsewhere (the replay store's claim, {@link Outcome.Pending},
 * docs/DESIGN.md D39) does not hold its worker: the worker takes the next datagram, and the rest of the knock (the
 * grant, or the drop) is queued when the answer came, and a worker runs it before it takes another datagram (so a
 * busy worker needs no wake-up for it, and concurrent grants still reach the firewall together in
 * {@link dev.certknock.server.firewall.GrantLedger}). At most {@link #MAX_RESUMING} knocks wait so; beyond, a worker
 * waits for its knock's answer itself (back-pressure, never an unbounded queue).
 */
public final class KnockDispatcher implements AutoCloseable {

    /** The most datagrams one source may have queued. */
    static final int PER_SOURCE_SHARE = 64;
    /** The most datagrams a source charged with a failure recently may have queued. */
    static final int PENALISED_SHARE = 4;
    /** The part of the public-key budget's rate at which sources charged recently are served, together. */
    static final double PENALISED_SHARE_OF_BUDGET = 0.5;

    /** The most knocks whose rest waits for an answer (or for a worker, once it came) at one time. */
    static final int MAX_RESUMING = 1024;

    private final FairQueue<SourceKey, ReceivedDatagram> queue;
    /** Permits for knocks whose rest waits; released once their rest ran. */
    private final Semaphore resuming = new Semaphore(MAX_RESUMING);
    /** The rests whose answer came, in the order it came; never more than {@link #MAX_RESUMING}. */
    private final BlockingQueue<Runnable> resumable = new ArrayBlockingQueue<>(MAX_RESUMING);
    private final KnockPipeline.Resumer resumer = this::resumeLater;
    private final java.util.function.BooleanSupplier hasResumable = () -> !resumable.isEmpty();
    /** Read once per datagram; replaced whole by {@link #replace} (a reload). */
    private volatile KnockPipeline pipeline;
    private final KnockCounters counters;
    private final List<Thread> workers = new ArrayList<>();
    /** Per worker: {@link System#nanoTime()} when it took the datagram it is on, or {@link #IDLE}. */
    private final AtomicLongArray busySince;
    private final AtomicLong taken = new AtomicLong();
    private volatile boolean running = true;

    private static final long IDLE = Long.MIN_VALUE;

    public KnockDispatcher(KnockPipeline pipeline, KnockCounters counters, int capacity, int workerCount) {
        this(pipeline, counters, capacity, workerCount, "knock-worker-", () -> { });
    }

    /**
     * @param threadPrefix the workers' thread names, followed by their number
     * @param onWorkerStart run first on each worker thread (for example to lower its CPU priority)
     */
    public KnockDispatcher(KnockPipeline pipeline, KnockCounters counters, int capacity, int workerCount,
            String threadPrefix, Runnable onWorkerStart) {
        this.queue = new FairQueue<>(capacity, Math.min(capacity, PER_SOURCE_SHARE),
                tiering(pipeline.stages(), System::nanoTime));
        this.pipeline = pipeline;
        this.counters = counters;
        this.busySince = new AtomicLongArray(workerCount);
        for (int i = 0; i < workerCount; i++) {
            busySince.set(i, IDLE);
            int slot = i;
            Thread t = new Thread(() -> {
                onWorkerStart.run();
                work(slot);
            }, threadPrefix + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    /**
     * Queues a datagram; false (and counted) when there is no room for it. A datagram pushed out to make
     * room for it is counted too.
     */
    public boolean offer(ReceivedDatagram datagram) {
        FairQueue.Admission<ReceivedDatagram> a = queue.offer(SourceKey.of(datagram.source().getAddress()), datagram);
        if (a instanceof FairQueue.Refused) {
            counters.count(DropReason.QUEUE_FULL);
            return false;
        }
        if (a instanceof FairQueue.AdmittedEvicting) {
            counters.count(DropReason.QUEUE_FULL);
        }
        return true;
    }

    /** Tiers by the standing that the pipeline's {@link SourceRateLimit} keeps; one tier without it. */
    static FairQueue.Tiering<SourceKey> tiering(List<Stage> stages, LongSupplier nanoTime) {
        SourceRateLimiter limiter = null;
        PublicKeyBudget budget = null;
        for (Stage s : stages) {
            if (s instanceof SourceRateLimit l) {
                limiter = l.limiter();
            } else if (s instanceof PublicKeyBudget b) {
                budget = b;
            }
        }
        if (limiter == null) {
            return FairQueue.Tiering.single();
        }
        TokenBucket penalised = null;
        if (budget != null) {
            double rate = Math.max(1, budget.perSecond() * PENALISED_SHARE_OF_BUDGET);
            penalised = new TokenBucket(rate, Math.max(1, rate / 100), nanoTime);
        }
        return new StandingTiers(limiter, budget, penalised);
    }

    /**
     * Tier 0 {@link SourceRateLimiter.Standing#TRUSTED}, 1 {@code CLEAN}, 2 {@code FAILING}, 3 {@code BAD}.
     * Tiers 2 and 3 (penalised) are served together at most at {@link #PENALISED_SHARE_OF_BUDGET} of the
     * public-key budget's rate, their lanes hold at most {@link #PENALISED_SHARE} datagrams, and tier 3
     * also waits for the budget to have spare ({@link PublicKeyBudget#hasSpare}).
     */
    private record StandingTiers(SourceRateLimiter limiter, PublicKeyBudget budget, TokenBucket penalised)
            implements FairQueue.Tiering<SourceKey> {

        @Override
        public int tiers() {
            return 4;
        }

        @Override
        public int tierOf(SourceKey key) {
            return limiter.standing(key).ordinal();
        }

        @Override
        public boolean mayServe(int tier) {
            if (tier < 2 || budget == null) {
                return true;
            }
            return penalised.hasTokens(1) && (tier == 2 || budget.hasSpare());
        }

        @Override
        public int share(int tier) {
            return tier < 2 ? Integer.MAX_VALUE : PENALISED_SHARE;
        }

        @Override
        public void served(int tier) {
            if (tier >= 2 && penalised != null) {
                penalised.tryAcquire();
            }
        }
    }

    /**
     * From the next datagram a worker takes on, runs {@code next} instead (a reload: new keys, trust or settings);
     * a datagram already being processed finishes in the pipeline it started in. The queue's tiers keep reading the
     * throttles of the pipeline given at construction, so {@code next} must share them
     * ({@link dev.certknock.server.pipeline.PipelineFactory#live(dev.certknock.server.pipeline.PipelineFactory.Parts,
     * dev.certknock.server.pipeline.PipelineFactory.Throttles)}).
     *
     * @throws IllegalArgumentException when {@code next} has other throttles than the pipeline running now
     */
    public void replace(KnockPipeline next) {
        if (throttle(pipeline.stages(), SourceRateLimit.class) != throttle(next.stages(), SourceRateLimit.class)
                || throttle(pipeline.stages(), PublicKeyBudget.class) != throttle(next.stages(), PublicKeyBudget.class)) {
            throw new IllegalArgumentException("a replacement pipeline must share the running one's throttles");
        }
        pipeline = next;
    }

    private static Stage throttle(List<Stage> stages, Class<? extends Stage> type) {
        return stages.stream().filter(type::isInstance).findFirst().orElse(null);
    }

    public int queued() {
        return queue.size();
    }

    /** Datagrams the workers have taken off the queue so far. */
    public long taken() {
        return taken.get();
    }

    /**
     * How long, in nanoseconds at {@code nanoNow} ({@link System#nanoTime()}), the worker on one datagram the
     * longest has been on it; 0 when every worker waits for work.
     */
    public long longestBusyNanos(long nanoNow) {
        long longest = 0;
        for (int i = 0; i < busySince.length(); i++) {
            long since = busySince.get(i);
            if (since != IDLE) {
                longest = Math.max(longest, nanoNow - since);
            }
        }
        return longest;
    }

    /** Worker threads that have ended (an Error escaped the pipeline); 0 while the dispatcher runs. */
    public int deadWorkers() {
        int dead = 0;
        for (Thread t : workers) {
            if (!t.isAlive()) {
                dead++;
            }
        }
        return running ? dead : 0;
    }

    private void work(int slot) {
        while (running) {
            try {
                busySince.set(slot, System.nanoTime());
                try {
                    if (resumeOne()) {
                        continue;
                    }
                } finally {
                    busySince.set(slot, IDLE);
                }
                ReceivedDatagram d = queue.poll(200, TimeUnit.MILLISECONDS, hasResumable);
                if (d != null) {
                    taken.incrementAndGet();
                    busySince.set(slot, System.nanoTime());
                    try {
                        pipeline.process(d, resumer);
                    } finally {
                        busySince.set(slot, IDLE);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The pipeline already counts stage failures; anything else must not kill a worker.
            }
        }
    }

    /** Knocks whose rest waits for an answer, or for a worker, now. */
    public int resuming() {
        return MAX_RESUMING - resuming.availablePermits();
    }

    private boolean resumeLater(CompletableFuture<Outcome> decision, Runnable rest) {
        if (!running || !resuming.tryAcquire()) {
            return false;
        }
        // The answer's thread (the store's I/O or timer thread) only queues the rest and wakes a worker if one waits:
        // the grant runs on a worker. A permit is held per queued rest, so the queue always has room.
        decision.whenComplete((o, e) -> {
            resumable.add(rest);
            queue.wake();
        });
        return true;
    }

    /** Runs one rest whose answer came, if any; true if it did. */
    private boolean resumeOne() {
        Runnable rest = resumable.poll();
        if (rest == null) {
            return false;
        }
        try {
            rest.run();
        } finally {
            resuming.release();
        }
        return true;
    }

    @Override
    public void close() {
        running = false;
        workers.forEach(Thread::interrupt);
        for (Thread t : workers) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
