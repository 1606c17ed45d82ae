package dev.certknock.server.replay;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLogger;

/**
 * Remembers every accepted knock's {@link ReplayKey} for as long as its timestamp is acceptable, so
 * that no knock is accepted twice, across restarts too. Thread-safe.
 *
 * <h2>Use in the pipeline</h2>
 * Following wireguard-go (and unlike fwknop, whose linear replay search before authentication let junk
 * burn its CPU): {@link #seen} is an O(1), lock-free, insert-free look-up for early in the pipeline,
 * before chain validation and the signature; {@link #commit} records the key only after the knock is
 * fully authenticated and authorized, and is the only decision: exactly one of any number of concurrent
 * commits of a key gets {@link CommitResult.Committed}. Anything else means drop.
 *
 * <h2>Expiry</h2>
 * The timestamp stage accepts a knock while {@code |now - timestamp| <= window}. Its entry is kept until
 * {@code timestamp + window + }{@link #MARGIN} on the wall clock, and {@code commit} itself refuses a
 * knock whose timestamp is more than {@code window + MARGIN} from now ({@link CommitResult.OutsideWindow}).
 * So a knock is committed only while its entry, if any, is still held: a replay is caught however long
 * it spent in the pipeline, and the margin is how long a knock may take from the timestamp stage to the
 * commit. Give the guard the same window as the timestamp stage.
 *
 * <p>The wall clock can be stepped (NTP, an operator, a VM resumed), so an entry also has a monotonic
 * deadline: at commit, the wall time it has left ({@code timestamp + window + MARGIN - now}, at most
 * twice {@code window + MARGIN}) is measured from then on the monotonic clock ({@link System#nanoTime()}).
 * An entry expires only when <em>both</em> have passed: a wall clock stepped forward does not purge it
 * before the real time it protects has passed (the knock would be accepted again once the clock is
 * stepped back), and one stepped back keeps it until the wall clock reaches its expiry again (the
 * timestamp stage accepts the knock until then). Expired entries are removed by a timing wheel bucketed
 * by monotonic deadline (one-second slots for windows up to about eight minutes): every commit hands
 * over the slots that have ended, so each entry is removed once (amortised O(1) per commit; an entry
 * whose wall expiry is still ahead goes back into the wheel for the wall time it has left) and no sweep
 * ever scans live entries; {@link #sweep()} does the same for an idle server and should be called about
 * once a second from a scheduler. A look-up treats an expired entry that is not yet removed as absent.
 *
 * <h2>Memory</h2>
 * At most {@code capacity} unexpired entries ({@link #DEFAULT_CAPACITY} = 1,000,000). Memory follows the
 * entries held, not the capacity: about 130 bytes per entry on a 64-bit JVM with compressed references
 * (the key 64, a boxed expiry 16, a hash map node 32, a share of the hash table 5 to 11, a reference in
 * the timing wheel 4 to 8); measured with random keys, 115 bytes per entry at 100,000 entries and 131 at
 * 1,000,000 (the hash table just resized), when an entry held one boxed expiry. It now holds a record of
 * two expiries (wall and monotonic), 8 bytes more, so about 140 MB at a full default capacity. With the default 30 s window an
 * entry lives about 65 s at most, so the default capacity holds more than 15,000 accepted knocks a second,
 * beyond what chain validation and signatures sustain on a small server. When it is reached even after
 * evicting expired entries, {@code commit} answers {@link CommitResult.Full} and the knock must be
 * dropped: the guard fails closed.
 *
 * <h2>Durability</h2>
 * With a journal ({@link #open}), {@code commit} appends a 60-byte record (key, expiry, CRC-32C) with a
 * {@code FileChannel} write before it returns {@code Committed}: the record is then in the OS page cache
 * and survives the server being killed (SIGKILL, OOM killer, {@code Runtime.halt}). The channel is forced
 * to disk by {@link #sweep()} (the server calls it once a second), outside the guard's lock, and at
 * {@link #close()}; never by {@code commit}: a force costs from about a millisecond to tens of them on a busy
 * disk, and a knock must not wait for it (nor for another knock's). So on a power loss or kernel crash,
 * entries committed since the last sweep (a second or so; up to the kernel's write-back delay, about 30 s,
 * if sweeps stop) may be lost, and a knock from that time could be replayed within its remaining window. If the write fails, {@code commit} throws
 * {@link UncheckedIOException} and records nothing: the knock is dropped and the journal is rewritten
 * before the next commit.
 *
 * <p>At {@link #open}, the journal is read: unexpired entries are loaded (all of them, even beyond the
 * capacity: dropping any would let its knock be replayed), expired ones skipped, a partial trailing
 * record (a crash in the middle of a write) ignored, records with a bad checksum skipped and counted
 * ({@link #journalLoadReport()}). The journal is then compacted: rewritten with only the live entries to
 * a temporary sibling, forced, renamed over it atomically and the directory forced. It is compacted the
 * same way whenever it holds more than twice as many records as there are entries (and at least 1024).
 * A file that is not a journal is refused with {@link ReplayJournalException}, never overwritten.
 * The journal holds wall-clock expiries only (a monotonic reading means nothing to another process), so
 * at {@code open} the wall clock decides what is unexpired, and a loaded entry is then kept for its
 * remaining wall time on the monotonic clock as well, like a fresh commit.
 */
public final class ReplayGuard implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReplayGuard.class);

    /** The default bound on entries held. */
    public static final int DEFAULT_CAPACITY = 1_000_000;
    /** How long an entry outlives its knock's acceptability: the pipeline's time from timestamp stage to commit. */
    public static final Duration MARGIN = Duration.ofSeconds(5);
    /** The longest window accepted. */
    public static final Duration MAX_WINDOW = Duration.ofDays(1);

    static final int MIN_COMPACTION_RECORDS = 1024;
    private static final int WHEEL_TARGET_SLOTS = 1024;
    private static final CommitResult REPLAY = new CommitResult.Replay();

    /**
     * @param wallExpiry epoch milliseconds: the knock's timestamp plus the window and the margin
     * @param monoExpiry the same instant measured on the monotonic clock from the commit (milliseconds
     *     of {@link #monoMillis()})
     */
    private record Entry(long wallExpiry, long monoExpiry) {

        boolean expiredAt(long wallNow, long monoNow) {
            return wallNow >= wallExpiry && monoNow >= monoExpiry;
        }

        /** When the wheel should look at it again: when both deadlines may have passed. */
        long nextCheck(long wallNow, long monoNow) {
            return Math.max(monoExpiry, monoNow + Math.max(0, wallExpiry - wallNow));
        }
    }

    private final Duration window;
    private final long keepMillis;
    private final int capacity;
    private final Clock clock;
    /** The class's logger, or a no-operation one ({@link #openSilent}). */
    private final Logger log;
    private final LongSupplier nanoTime;
    private final long originNanos;
    private final ConcurrentHashMap<ReplayKey, Entry> entries = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final ExpiryWheel wheel;
    private final ReplayJournal journal;
    private final JournalLoadReport loadReport;
    private boolean journalNeedsRewrite;
    private long compactionFloor = MIN_COMPACTION_RECORDS;
    private volatile boolean closed;

    private ReplayGuard(Path journalPath, Duration window, int capacity, Clock clock, LongSupplier nanoTime)
            throws IOException {
        this(journalPath, window, capacity, clock, nanoTime, LOG);
    }

    private ReplayGuard(Path journalPath, Duration window, int capacity, Clock clock, LongSupplier nanoTime, Logger log)
            throws IOException {
        this.log = log;
        Objects.requireNonNull(window, "window");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.originNanos = nanoTime.getAsLong();
        if (window.isNegative() || window.isZero() || window.compareTo(MAX_WINDOW) > 0) {
            throw new IllegalArgumentException("the timestamp window must be more than 0 and at most "
                    + MAX_WINDOW.toHours() + " h, got " + window);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("the replay cache capacity must be at least 1, got " + capacity);
        }
        this.window = window;
        this.keepMillis = window.plus(MARGIN).toMillis();
        this.capacity = capacity;
        // Monotonic deadlines lie within (now, now + 2 * keep]: a slot per second, or wider for long windows.
        long horizon = 2 * keepMillis;
        long granularity = Math.max(1000, (horizon + WHEEL_TARGET_SLOTS - 1) / WHEEL_TARGET_SLOTS);
        long now = clock.millis();
        long mono = monoMillis();
        this.wheel = new ExpiryWheel(granularity, (int) ((horizon + granularity - 1) / granularity) + 2, mono);
        if (journalPath == null) {
            this.journal = null;
            this.loadReport = JournalLoadReport.NONE;
        } else {
            JournalLoadReport[] report = new JournalLoadReport[1];
            this.journal = ReplayJournal.open(journalPath, now, contents -> {
                contents.live().forEach((key, expiry) -> {
                    Entry e = new Entry(expiry, mono + (expiry - now));
                    entries.put(key, e);
                    wheel.add(key, e.monoExpiry());
                });
                report[0] = contents.report();
            });
            this.loadReport = report[0];
            logLoad();
        }
    }

    /** A guard without persistence: replays are forgotten at a restart. For tests and for the verify command. */
    public static ReplayGuard inMemory(Duration window, int capacity, Clock clock) {
        return inMemory(window, capacity, clock, System::nanoTime);
    }

    /**
     * {@link #inMemory(Duration, int, Clock)} with the monotonic clock given.
     *
     * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime})
     */
    public static ReplayGuard inMemory(Duration window, int capacity, Clock clock, LongSupplier nanoTime) {
        try {
            return new ReplayGuard(null, window, capacity, clock, nanoTime);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // no I/O without a journal
        }
    }

    /**
     * A guard persisted in {@code journal} (created with its parent directories if missing), loading and
     * compacting what it holds. The journal is locked until {@link #close()} or the process's end.
     *
     * @param window the timestamp window, as the pipeline's timestamp stage uses it
     * @param capacity the most entries held ({@link #DEFAULT_CAPACITY})
     * @throws ReplayJournalException if the file is not a replay journal this version reads, or another
     *     guard holds it; the message names the file and what to do
     * @throws IOException if the journal cannot be read or rewritten
     */
    public static ReplayGuard open(Path journal, Duration window, int capacity, Clock clock) throws IOException {
        return open(journal, window, capacity, clock, System::nanoTime);
    }

    /**
     * {@link #open(Path, Duration, int, Clock)} with the monotonic clock given.
     *
     * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime})
     */
    /** A guard with a journal that logs nothing: the start-up rehearsal's (operators never see it). */
    public static ReplayGuard openSilent(Path journal, Duration window, int capacity, Clock clock) throws IOException {
        return new ReplayGuard(Objects.requireNonNull(journal, "journal"), window, capacity, clock, System::nanoTime,
                NOPLogger.NOP_LOGGER);
    }

    public static ReplayGuard open(Path journal, Duration window, int capacity, Clock clock, LongSupplier nanoTime)
            throws IOException {
        return new ReplayGuard(Objects.requireNonNull(journal, "journal"), window, capacity, clock, nanoTime);
    }

    /**
     * Whether an unexpired entry for {@code key} is held. Lock-free and O(1), no insert: for the early,
     * cheap replay check. Not a decision: only {@link #commit} is.
     */
    public boolean seen(ReplayKey key) {
        Objects.requireNonNull(key, "key");
        ensureOpen();
        Entry e = entries.get(key);
        return e != null && !e.expiredAt(clock.millis(), monoMillis());
    }

    /**
     * Records {@code key} unless it is held already: call once the knock is fully authenticated and
     * authorized, just before granting, and grant only on {@link CommitResult.Committed}. Atomic: of any
     * number of concurrent commits of one key, exactly one is committed. With a journal, the record is
     * written (to the OS page cache, see the class documentation) before this returns {@code Committed}.
     *
     * @param knockTimestampMillis the knock's signed timestamp (epoch milliseconds); the entry is kept
     *     until this plus the window plus {@link #MARGIN}
     * @throws UncheckedIOException if the journal cannot be written; nothing is recorded and the knock
     *     must be dropped
     * @throws IllegalStateException if the guard is closed
     */
    public CommitResult commit(ReplayKey key, long knockTimestampMillis) {
        Objects.requireNonNull(key, "key");
        lock.lock();
        try {
            ensureOpen();
            long now = clock.millis();
            long mono = monoMillis();
            expire(now, mono);
            if (knockTimestampMillis <= now - keepMillis || knockTimestampMillis > now + keepMillis) {
                return new CommitResult.OutsideWindow(knockTimestampMillis, now);
            }
            long expiry = knockTimestampMillis + keepMillis;
            Entry existing = entries.get(key);
            if (existing != null && !existing.expiredAt(now, mono)) {
                return REPLAY;
            }
            if (existing == null && entries.size() >= capacity) {
                wheel.purgeCurrent(mono, k -> removeIfExpired(k, now, mono));
                if (entries.size() >= capacity) {
                    return new CommitResult.Full(capacity);
                }
            }
            if (journal != null) {
                persist(key, expiry, now, mono);
            }
            // The wall time left, from now on the monotonic clock too: in (0, 2 * keep] by the check above.
            Entry entry = new Entry(expiry, mono + (expiry - now));
            entries.put(key, entry);
            wheel.add(key, entry.monoExpiry());
            if (journal != null) {
                compactIfDue(now, mono);
            }
            return new CommitResult.Committed(expiry);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes expired entries, forces the journal if records are waiting and compacts it if due. Cheap
     * (it touches only entries that have expired); call it about once a second so an idle guard
     * releases memory and a journal is forced.
     */
    public void sweep() {
        FileChannel toForce = null;
        lock.lock();
        try {
            ensureOpen();
            long now = clock.millis();
            long mono = monoMillis();
            expire(now, mono);
            if (journal != null && !journalNeedsRewrite) {
                compactIfDue(now, mono);
                toForce = journal.claimUnforced();
            }
        } finally {
            lock.unlock();
        }
        if (toForce != null) {
            force(toForce);
        }
    }

    /**
     * Forces the journal's appends to disk without holding the lock, so commits go on meanwhile (a positional
     * write and a force of one channel may run at once). A channel closed meanwhile was replaced by a compaction
     * or closed by {@link #close()}, both of which force what they keep.
     */
    private void force(FileChannel channel) {
        try {
            channel.force(false);
        } catch (ClosedChannelException e) {
            // compacted or closed meanwhile: nothing left to force on this channel
        } catch (IOException e) {
            lock.lock();
            try {
                journal.markUnforced(channel);
            } finally {
                lock.unlock();
            }
            log.warn("replay journal {}: cannot force to disk ({}); entries survive a crash of the "
                    + "server but maybe not of the machine", journal.path(), e.toString());
        }
    }

    /** Whether journal records wait for the next {@link #sweep()} to be forced to disk (tests). */
    boolean journalUnforced() {
        lock.lock();
        try {
            return journal != null && journal.unforced();
        } finally {
            lock.unlock();
        }
    }

    /** Entries held, including expired ones not yet removed. */
    public int size() {
        return entries.size();
    }

    public int capacity() {
        return capacity;
    }

    public Duration window() {
        return window;
    }

    /** The journal's file, if the guard has one. */
    public Optional<Path> journalPath() {
        return journal == null ? Optional.empty() : Optional.of(journal.path());
    }

    /** What was found in the journal when it was opened; all zero without a journal. */
    public JournalLoadReport journalLoadReport() {
        return loadReport;
    }

    /** Keys in the timing wheel, counting duplicates; for tests. */
    int wheelKeyCountForTest() {
        lock.lock();
        try {
            return wheel.keyCount();
        } finally {
            lock.unlock();
        }
    }

    /** The journal, for tests that break it. */
    ReplayJournal journalForTest() {
        return journal;
    }

    /** Records in the journal file, live or not; for tests. */
    long journalRecords() {
        lock.lock();
        try {
            return journal == null ? 0 : journal.records();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Forces the journal to disk, closes it and releases its lock. Later calls do nothing; other methods
     * then throw {@link IllegalStateException}.
     *
     * @throws UncheckedIOException if the journal cannot be forced or closed
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (journal != null) {
                journal.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("replay journal " + journal.path() + ": cannot close", e);
        } finally {
            lock.unlock();
        }
    }

    /** Milliseconds on the monotonic clock since this guard was made. */
    private long monoMillis() {
        return Math.floorDiv(nanoTime.getAsLong() - originNanos, 1_000_000L);
    }

    private void expire(long now, long mono) {
        wheel.advance(mono, key -> {
            Entry e = entries.get(key);
            if (e == null) {
                return;
            }
            if (e.expiredAt(now, mono)) {
                entries.remove(key, e);
            } else {
                // Committed again since, beyond the wheel's reach when added, or its wall expiry is still
                // ahead (the wall clock went back): look again when both may have passed.
                wheel.add(key, e.nextCheck(now, mono));
            }
        });
    }

    private boolean removeIfExpired(ReplayKey key, long now, long mono) {
        Entry e = entries.get(key);
        if (e == null) {
            return true;
        }
        if (e.expiredAt(now, mono)) {
            entries.remove(key, e);
            return true;
        }
        return false;
    }

    private void persist(ReplayKey key, long expiry, long now, long mono) {
        try {
            if (journalNeedsRewrite) {
                journal.rewrite(liveEntries(now, mono));
                journalNeedsRewrite = false;
                log.info("replay journal {} rewritten; knocks are recorded again", journal.path());
            }
            journal.append(key, expiry);
        } catch (IOException e) {
            if (!journalNeedsRewrite) {
                log.warn("replay journal {}: cannot record a knock ({}); knocks are dropped until it can be "
                        + "written", journal.path(), e.toString());
            }
            journalNeedsRewrite = true;
            throw new UncheckedIOException("replay journal " + journal.path()
                    + ": cannot record the knock, so it must be dropped", e);
        }
    }

    private void compactIfDue(long now, long mono) {
        if (journalNeedsRewrite) {
            return;
        }
        if (journal.records() > Math.max(2L * entries.size(), compactionFloor)) {
            Map<ReplayKey, Long> live = liveEntries(now, mono);
            try {
                journal.rewrite(live);
                compactionFloor = MIN_COMPACTION_RECORDS;
                log.debug("replay journal {} compacted to {} entries", journal.path(), live.size());
            } catch (IOException e) {
                if (journal.isOpen()) {
                    // The journal in use is intact: keep appending to it, try again when it has doubled.
                    compactionFloor = 2 * journal.records();
                    log.warn("replay journal {}: cannot compact ({}); will try again later", journal.path(),
                            e.toString());
                } else {
                    journalNeedsRewrite = true;
                    log.warn("replay journal {}: cannot reopen after compacting ({}); knocks are dropped until "
                            + "it can be rewritten", journal.path(), e.toString());
                }
            }
        }
    }

    /** Unexpired entries with their wall expiry, as the journal holds them. */
    private Map<ReplayKey, Long> liveEntries(long now, long mono) {
        Map<ReplayKey, Long> live = new HashMap<>();
        entries.forEach((key, e) -> {
            if (!e.expiredAt(now, mono)) {
                live.put(key, e.wallExpiry());
            }
        });
        return live;
    }

    private void logLoad() {
        JournalLoadReport r = loadReport;
        if (r.corruptRecords() > 0 || r.trailingBytes() > 0) {
            log.warn("replay journal {}: {} records with a bad checksum skipped, {} bytes of a partial last "
                    + "record ignored", journal.path(), r.corruptRecords(), r.trailingBytes());
        }
        if (r.liveEntries() > capacity) {
            log.warn("replay journal {} holds {} unexpired entries, more than the capacity {}: all are kept, "
                    + "and new knocks are refused until enough expire", journal.path(), r.liveEntries(), capacity);
        }
        log.info("replay journal {}: {} unexpired entries loaded, {} expired skipped", journal.path(),
                r.liveEntries(), r.expiredRecords());
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the replay guard is closed");
        }
    }
}
