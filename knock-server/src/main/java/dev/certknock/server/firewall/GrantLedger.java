package dev.certknock.server.firewall;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.event.LogText;
import dev.certknock.server.event.LogThrottle;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.GrantElement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLogger;

/**
 * The one record of what is open, for every backend: which elements (address, protocol, port or range) are open,
 * who holds each (a {@link dev.certknock.server.grant.Holder}: the leaf certificate and the CA certificates of its
 * path), until when; the limits; revocation; and the grant events. A backend is an {@link ElementWriter} that only
 * renders and applies batches of element changes; the {@code log} backend is this ledger with a writer that writes
 * nothing, so what it reports is what a kernel backend would hold.
 *
 * <p>The ownership rule (docs/DESIGN.md D27): an element is open while any holder's grant on it lasts, and the
 * backend holds it until the latest of those expiries, tagged with that latest holder ({@link HolderTags}). A second
 * knock of the same certificate for the same element only ever extends its expiry. Closing one holder (its
 * revocation) removes only its hold: the element stays for the others, re-written with their latest expiry when the
 * closed holder was the one that set it.
 *
 * <p>Limits are checked before anything is written: a grant that would take its certificate past
 * {@link Settings#maxElementsPerCertificate()} distinct elements, or the ledger past {@link Settings#maxElements()},
 * is refused whole ({@link GrantOutcome.Refused}); a repeated knock for elements already held adds nothing and is
 * never refused for the limits.
 *
 * <p>Revocation closes every grant held under a revoked certificate, leaf or CA, with one pass over the ledger and
 * one batch however many serials a CRL adds; the revoked certificates are remembered for
 * {@link #REVOKED_MEMORY}, so a knock that passed the revocation check before the CRL landed cannot open after. A
 * revocation whose batch the backend refused is retried at every {@link #active} (each second, by the server's
 * housekeeping) until it succeeds. After a restart the ledger is rebuilt from the backend's elements and their
 * comments, so a revocation still finds them.
 *
 * <p>Grants that arrive while a batch is being written go into the next batch together (see {@link #open}).
 * Thread-safe: every method holds the ledger's lock, including while a batch is written.
 */
public final class GrantLedger implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(GrantLedger.class);

    /** How long a revocation is remembered against knocks still in the pipeline: far longer than one takes. */
    static final Duration REVOKED_MEMORY = Duration.ofMinutes(5);
    static final int MAX_REVOKED_REMEMBERED = 65_536;

    /**
     * @param maxElements               distinct elements open at once, for all certificates together
     * @param maxElementsPerCertificate distinct elements one certificate holds at once
     * @param removeAllOnStop           empty the backend at stop (otherwise its elements stay until they expire)
     */
    public record Settings(int maxElements, int maxElementsPerCertificate, boolean removeAllOnStop) {

        public static final int DEFAULT_MAX_ELEMENTS = 100_000;
        public static final int DEFAULT_MAX_ELEMENTS_PER_CERTIFICATE = 256;

        public Settings {
            if (maxElements < 1 || maxElementsPerCertificate < 1) {
                throw new IllegalArgumentException("element limits must be positive");
            }
            if (maxElementsPerCertificate > maxElements) {
                throw new IllegalArgumentException("the per-certificate limit (" + maxElementsPerCertificate
                        + ") is above the total (" + maxElements + ")");
            }
        }

        public static Settings defaults() {
            return new Settings(DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_ELEMENTS_PER_CERTIFICATE, false);
        }

        public Settings withRemoveAllOnStop(boolean remove) {
            return new Settings(maxElements, maxElementsPerCertificate, remove);
        }
    }

    /** One element: its holds (one per leaf certificate) and what the backend was last told. */
    private static final class Entry {
        final Map<CertRef, GrantDecision> holds = new LinkedHashMap<>(2);
        /** Tags of the comment read back at start, for an element from before a restart; empty otherwise. */
        Set<String> restoredTags = Set.of();
        /** Until when an element read back at start stays; null when there is none. */
        Instant restoredUntil;
        /** The expiry the backend holds it to. */
        Instant writtenUntil = Instant.MIN;
        /** The leaf certificate its comment names; null when the comment is from before a restart. */
        CertRef writtenBy;

        boolean isEmpty() {
            return holds.isEmpty() && restoredUntil == null;
        }

        /** The hold that expires last, or null. */
        GrantDecision latest() {
            GrantDecision latest = null;
            for (GrantDecision d : holds.values()) {
                if (latest == null || d.expiresAt().isAfter(latest.expiresAt())) {
                    latest = d;
                }
            }
            return latest;
        }

        Instant until() {
            GrantDecision l = latest();
            Instant u = l == null ? Instant.MIN : l.expiresAt();
            return restoredUntil != null && restoredUntil.isAfter(u) ? restoredUntil : u;
        }
    }

    private final ElementWriter writer;
    private final Settings settings;
    private final Clock clock;
    private final KnockEventListener listener;
    /** The class's logger; a no-operation one for a rehearsal. */
    private final Logger log;
    private final Map<GrantElement, Entry> elements = new HashMap<>();
    /** Distinct elements each leaf certificate holds. */
    private final Map<CertRef, Integer> perCertificate = new HashMap<>();
    /** How many elements each decision holds: it closes when that reaches 0 by expiry or revocation. */
    private final Map<GrantDecision, Integer> holdCount = new HashMap<>();
    private final Queue<PendingOpen> pending = new ConcurrentLinkedQueue<>();
    /** Tags of certificates revoked in the last {@link #REVOKED_MEMORY}, oldest first. */
    private final LinkedHashMap<String, Instant> recentlyRevoked = new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
            return size() > MAX_REVOKED_REMEMBERED;
        }
    };
    /** Revoked tags whose elements the backend has not yet confirmed closed (a refused batch is retried). */
    private final Set<String> toClose = new LinkedHashSet<>();
    private final LogThrottle warnings = new LogThrottle(1, Duration.ofSeconds(10), System::nanoTime);
    private boolean started;
    /** Set by {@link #close()}: no grant opens after it (a knock still in the pipeline at stop opens nothing). */
    private boolean closed;
    /** Closes elements on time for a backend that does not expire them itself; null for the others. */
    private ScheduledExecutorService waker;
    private ScheduledFuture<?> wake;
    private Instant wakeAt;
    /** When the ledger is next scanned for expired holds on the grant path (at most once a second). */
    private Instant nextExpiryScan = Instant.MIN;

    public GrantLedger(ElementWriter writer, Settings settings, Clock clock, KnockEventListener listener) {
        this(writer, settings, clock, listener, LOG);
    }

    private GrantLedger(ElementWriter writer, Settings settings, Clock clock, KnockEventListener listener, Logger log) {
        this.writer = Objects.requireNonNull(writer, "writer");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.log = log;
    }

    /** For the rehearsal's log line: whether this ledger's backend dry-runs the rehearsal's batches. */
    public String rehearsalCheck() {
        return writer.hasDryRun() ? "the backend dry-ran the first " + RehearsalWriter.MAX_CHECKS + " batches"
                : "this backend has no dry run: nothing reached it";
    }

    /** The limits and stop behaviour this ledger was made with. */
    public Settings settings() {
        return settings;
    }

    /**
     * A started ledger for the start-up rehearsal ({@code PipelineRehearsal}): same limits and rules as this one,
     * empty, silent in the log, over a writer that only checks batches with this ledger's backend
     * ({@link ElementWriter#check}, under this ledger's lock, since the backend is not thread-safe; the first
     * {@value RehearsalWriter#MAX_CHECKS} batches) and changes no element. Its grants go to {@code events}, never to this ledger's listener.
     */
    public GrantLedger rehearsal(KnockEventListener events) throws FirewallException {
        return rehearsal(events, RehearsalWriter.MAX_CHECKS);
    }

    /**
     * As {@link #rehearsal(KnockEventListener)}, with the backend checking at most {@code checks} batches: 0 for a
     * rehearsal that must never take this ledger's lock (one running at a low CPU priority beside live knocks).
     */
    public GrantLedger rehearsal(KnockEventListener events, int checks) throws FirewallException {
        if (checks < 0) {
            throw new IllegalArgumentException("checks must be >= 0: " + checks);
        }
        return new GrantLedger(new RehearsalWriter(Math.min(checks, RehearsalWriter.MAX_CHECKS)), settings, clock, events,
                NOPLogger.NOP_LOGGER).start();
    }

    /** Checks batches with the real backend and writes nothing; see {@link #rehearsal}. */
    private final class RehearsalWriter implements ElementWriter {

        /**
         * Batches checked by the backend, at most: enough to load and link its whole path; a dry run costs as much
         * as a commit (about a millisecond through libnftables), which a rehearsal of hundreds of knocks need not pay
         * each time.
         */
        static final int MAX_CHECKS = 32;
        private final int maxChecks;
        private int checks;

        RehearsalWriter(int maxChecks) {
            this.maxChecks = maxChecks;
        }

        @Override
        public void setUp() {
        }

        @Override
        public void apply(List<ElementChange> batch) throws FirewallException {
            if (checks >= maxChecks) {
                return;
            }
            checks++;
            synchronized (GrantLedger.this) {
                writer.check(batch);
            }
        }

        @Override
        public List<HeldElement> list() {
            return List.of();
        }

        @Override
        public boolean expiresByItself() {
            return true; // nothing to close: nothing is written
        }

        @Override
        public void warmUp() {
        }

        @Override
        public void removeAll() {
        }

        @Override
        public String describe() {
            return "rehearsal of " + writer.describe();
        }

        @Override
        public void close() {
        }
    }

    /**
     * Sets the backend up, rebuilds the ledger from the elements it holds (those left by an earlier run: each keeps
     * its expiry, and its comment's tags for revocation) and warms the write path up.
     */
    public synchronized GrantLedger start() throws FirewallException {
        writer.setUp();
        started = true;
        Instant now = clock.instant();
        int kept = 0;
        int tagged = 0;
        for (HeldElement h : writer.list()) {
            Duration left = h.expires();
            if (left.isZero() || left.isNegative()) {
                if (writer.expiresByItself()) {
                    continue; // the kernel has dropped it
                }
                left = Duration.ZERO; // expired while the server was down: the scan below closes it now
            }
            Entry e = elements.computeIfAbsent(h.element(), k -> new Entry());
            Set<String> tags = HolderTags.parse(h.comment());
            Instant until = now.plus(left);
            if (e.restoredUntil == null || until.isAfter(e.restoredUntil)) {
                e.restoredUntil = until;
            }
            if (!tags.isEmpty()) {
                Set<String> all = new HashSet<>(e.restoredTags);
                all.addAll(tags);
                e.restoredTags = Set.copyOf(all);
                tagged++;
            }
            e.writtenUntil = e.restoredUntil;
            kept++;
        }
        writer.warmUp();
        if (!writer.expiresByItself()) {
            waker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "grant-expiry");
                t.setDaemon(true);
                return t;
            });
            expire(now, true);
            scheduleWake(now);
        }
        log.info("firewall: {}; {} grant element(s) kept from before ({} naming their certificates); limits {} "
                + "elements, {} per certificate", writer.describe(), kept, tagged, settings.maxElements(),
                settings.maxElementsPerCertificate());
        return this;
    }

    /**
     * Opens (or extends) the grant. Grants that arrive while another thread is writing are written together, in one
     * batch (one transaction): a caller queues its decision, takes the lock, and writes everything queued unless a
     * thread before it already did. A batch the backend refuses is retried one decision at a time, so one bad
     * decision cannot fail another's grant.
     */
    @Override
    public GrantOutcome open(GrantDecision d) throws FirewallException {
        PendingOpen mine = new PendingOpen(d);
        pending.add(mine);
        synchronized (this) {
            if (!mine.done) {
                commitPending();
            }
        }
        if (mine.failure != null) {
            throw mine.failure;
        }
        return mine.outcome;
    }

    /** Queues a decision as another thread would, without writing it (tests of batching). */
    void queueForTest(GrantDecision d) {
        pending.add(new PendingOpen(d));
    }

    /** A decision waiting to be written, and what became of it (written and read under the lock). */
    private static final class PendingOpen {
        final GrantDecision decision;
        boolean done;
        GrantOutcome outcome;
        FirewallException failure;

        PendingOpen(GrantDecision decision) {
            this.decision = decision;
        }
    }

    private void commitPending() {
        List<PendingOpen> batch = new ArrayList<>();
        for (PendingOpen p; (p = pending.poll()) != null;) {
            batch.add(p);
        }
        if (batch.isEmpty()) {
            return;
        }
        if (closed) {
            FirewallException stopped = new FirewallException("the firewall is stopped; nothing opened", null);
            batch.forEach(p -> {
                p.failure = stopped;
                p.done = true;
            });
            return;
        }
        Instant now = clock.instant();
        expire(now, false);
        try {
            commit(batch, now);
        } catch (FirewallException e) {
            if (batch.size() == 1) {
                batch.get(0).failure = e;
            } else {
                log.debug("batch of {} grants refused, writing them one by one: {}", batch.size(), LogText.of(e.getMessage()));
                for (PendingOpen p : batch) {
                    try {
                        commit(List.of(p), now);
                    } catch (FirewallException one) {
                        p.failure = one;
                    }
                }
            }
        } finally {
            batch.forEach(p -> p.done = true);
        }
    }

    /**
     * Decides each grant of the batch (limits, revocation) without changing anything, writes the elements whose
     * expiry grows in one batch, and only then records the holds and reports the grants.
     */
    private void commit(List<PendingOpen> batch, Instant now) throws FirewallException {
        Set<GrantElement> newInBatch = new HashSet<>();
        Map<CertRef, Set<GrantElement>> newForCertificate = new HashMap<>();
        List<PendingOpen> accepted = new ArrayList<>();
        for (PendingOpen p : batch) {
            p.outcome = null;
            GrantDecision d = p.decision;
            if (!d.expiresAt().isAfter(now)) {
                p.outcome = new GrantOutcome.Refused(GrantOutcome.Refusal.EXPIRED, "it expired at " + d.expiresAt());
                continue;
            }
            String revoked = revokedTag(d, now);
            if (revoked != null) {
                p.outcome = new GrantOutcome.Refused(GrantOutcome.Refusal.REVOKED, "certificate " + revoked
                        + " of its path was revoked after the knock passed the revocation check; nothing opened");
                continue;
            }
            CertRef leaf = d.holder().leaf();
            Set<GrantElement> mine = new LinkedHashSet<>();
            Set<GrantElement> brandNew = new LinkedHashSet<>();
            Set<GrantElement> certNew = newForCertificate.getOrDefault(leaf, Set.of());
            for (PortGrant g : d.grants()) {
                GrantElement el = new GrantElement(d.address(), g);
                Entry e = elements.get(el);
                if (e == null && !newInBatch.contains(el)) {
                    brandNew.add(el);
                }
                if ((e == null || !e.holds.containsKey(leaf)) && !certNew.contains(el)) {
                    mine.add(el);
                }
            }
            int total = elements.size() + newInBatch.size() + brandNew.size();
            if (total > settings.maxElements()) {
                p.outcome = new GrantOutcome.Refused(GrantOutcome.Refusal.TOTAL_LIMIT, "the firewall holds "
                        + (elements.size() + newInBatch.size()) + " elements; " + brandNew.size()
                        + " more would pass firewall.maxElements " + settings.maxElements());
                continue;
            }
            int held = perCertificate.getOrDefault(leaf, 0) + certNew.size();
            if (held + mine.size() > settings.maxElementsPerCertificate()) {
                p.outcome = new GrantOutcome.Refused(GrantOutcome.Refusal.CERTIFICATE_LIMIT, "certificate serial "
                        + leaf.serial().toString(16) + " holds " + held + " elements; " + mine.size()
                        + " more would pass firewall.maxElementsPerCertificate " + settings.maxElementsPerCertificate());
                continue;
            }
            newInBatch.addAll(brandNew);
            if (!mine.isEmpty()) {
                newForCertificate.computeIfAbsent(leaf, k -> new HashSet<>()).addAll(mine);
            }
            accepted.add(p);
        }
        if (accepted.isEmpty()) {
            return;
        }
        // What each touched element's latest expiry becomes, and whether the backend must hear of it.
        Map<GrantElement, GrantDecision> latestNew = new LinkedHashMap<>();
        for (PendingOpen p : accepted) {
            GrantDecision d = p.decision;
            for (PortGrant g : d.grants()) {
                GrantElement el = new GrantElement(d.address(), g);
                GrantDecision l = latestNew.get(el);
                if (l == null || d.expiresAt().isAfter(l.expiresAt())) {
                    latestNew.put(el, d);
                }
            }
        }
        List<ElementChange> adds = new ArrayList<>();
        latestNew.forEach((el, d) -> {
            Entry e = elements.get(el);
            if (e == null) {
                adds.add(add(el, d, now));
            } else if (d.expiresAt().isAfter(e.writtenUntil)) {
                if (!d.holder().leaf().equals(e.writtenBy)) {
                    // Another holder now sets the expiry: a kernel refreshes the timeout of an element it holds but
                    // may keep its comment, so it is written anew (deleted and added in one batch) to name the new one.
                    adds.add(new ElementChange.Remove(el));
                }
                adds.add(add(el, d, now));
            }
        });
        if (!adds.isEmpty()) {
            writer.apply(adds);
        }
        for (PendingOpen p : accepted) {
            record(p.decision);
            p.outcome = GrantOutcome.OPENED;
        }
        latestNew.forEach((el, d) -> {
            Entry e = elements.get(el);
            if (d.expiresAt().isAfter(e.writtenUntil)) {
                e.writtenUntil = d.expiresAt();
                e.writtenBy = d.holder().leaf();
            }
        });
        scheduleWake(now);
        for (PendingOpen p : accepted) {
            GrantDecision d = p.decision;
            log.info("GRANT {} {} for {} s (until {}) to {} serial {}", d.address().getHostAddress(), d.grants(),
                    d.duration().toSeconds(), d.expiresAt(), LogText.of(d.subject().getName()), d.serial().toString(16));
            listener.grantOpened(d);
        }
    }

    /** Records the decision's holds; a hold of the same certificate is replaced only by one that lasts longer. */
    private void record(GrantDecision d) {
        CertRef leaf = d.holder().leaf();
        for (PortGrant g : d.grants()) {
            Entry e = elements.computeIfAbsent(new GrantElement(d.address(), g), k -> new Entry());
            GrantDecision before = e.holds.get(leaf);
            if (before == null) {
                e.holds.put(leaf, d);
                perCertificate.merge(leaf, 1, Integer::sum);
                holdCount.merge(d, 1, Integer::sum);
            } else if (d.expiresAt().isAfter(before.expiresAt())) {
                e.holds.put(leaf, d);
                release(before);
                holdCount.merge(d, 1, Integer::sum);
            }
        }
    }

    /** One hold of the decision ended; true when it was its last. */
    private boolean release(GrantDecision d) {
        Integer n = holdCount.get(d);
        if (n == null || n <= 1) {
            holdCount.remove(d);
            return true;
        }
        holdCount.put(d, n - 1);
        return false;
    }

    private void releaseCertificate(CertRef leaf) {
        perCertificate.computeIfPresent(leaf, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** The tag of a certificate of the decision's path revoked within {@link #REVOKED_MEMORY}, or null. */
    private String revokedTag(GrantDecision d, Instant now) {
        if (recentlyRevoked.isEmpty()) {
            return null;
        }
        for (CertRef r : d.holder().path()) {
            Instant at = recentlyRevoked.get(r.tag());
            if (at != null && at.plus(REVOKED_MEMORY).isAfter(now)) {
                return r.toString();
            }
        }
        return null;
    }

    private static ElementChange.Add add(GrantElement el, GrantDecision latest, Instant now) {
        Duration left = Duration.between(now, latest.expiresAt());
        Duration expires = Duration.ofMillis(Math.max(1, (left.toNanos() + 999_999) / 1_000_000));
        return new ElementChange.Add(el, latest.duration().truncatedTo(ChronoUnit.MILLIS), expires,
                HolderTags.format(latest.holder()), latest.serial());
    }

    /**
     * Closes every open grant held under any of these certificates (a leaf, or a CA certificate of the path: then
     * every grant below it), with one pass over the ledger and one batch. Returns how many grants closed (and
     * elements from before a restart). When the backend refuses the batch, the exception is thrown and the
     * revocation is retried at every {@link #active} until it succeeds; no grant of these certificates opens
     * meanwhile.
     */
    @Override
    public synchronized int revoke(Set<CertRef> revoked) throws FirewallException {
        if (revoked.isEmpty()) {
            return 0;
        }
        Instant now = clock.instant();
        for (CertRef r : revoked) {
            String tag = r.tag();
            recentlyRevoked.remove(tag);
            recentlyRevoked.put(tag, now); // remembered first: even if the batch below fails, nothing new opens
            toClose.add(tag);
        }
        expire(now, true);
        return closeRevoked(now);
    }


    private int closeRevoked(Instant now) throws FirewallException {
        if (toClose.isEmpty()) {
            return 0;
        }
        Set<String> tags = Set.copyOf(toClose);
        List<ElementChange> batch = new ArrayList<>();
        Map<GrantElement, List<GrantDecision>> closing = new LinkedHashMap<>();
        Set<GrantElement> restoredClosing = new LinkedHashSet<>();
        Map<GrantElement, CertRef> rewritten = new HashMap<>();
        for (Map.Entry<GrantElement, Entry> me : elements.entrySet()) {
            Entry e = me.getValue();
            List<GrantDecision> hit = new ArrayList<>();
            for (GrantDecision d : e.holds.values()) {
                if (d.holder().heldUnderAny(tags)) {
                    hit.add(d);
                }
            }
            boolean restoredHit = e.restoredUntil != null && !java.util.Collections.disjoint(e.restoredTags, tags);
            if (hit.isEmpty() && !restoredHit) {
                continue;
            }
            closing.put(me.getKey(), hit);
            if (restoredHit) {
                restoredClosing.add(me.getKey());
            }
            GrantDecision rest = null;
            for (GrantDecision d : e.holds.values()) {
                if (!hit.contains(d) && (rest == null || d.expiresAt().isAfter(rest.expiresAt()))) {
                    rest = d;
                }
            }
            boolean restoredStays = e.restoredUntil != null && !restoredHit;
            if (rest == null && !restoredStays) {
                batch.add(new ElementChange.Remove(me.getKey()));
                continue;
            }
            boolean namedClosed = e.writtenBy == null ? restoredHit
                    : hit.stream().anyMatch(d -> d.holder().leaf().equals(e.writtenBy));
            if (!namedClosed) {
                continue; // the backend's expiry and comment are those of a holder that stays
            }
            // The closed holder set the expiry and comment: write the element again for those that stay, deleted
            // and added in one batch, so no packet sees it missing.
            batch.add(new ElementChange.Remove(me.getKey()));
            if (rest != null && (!restoredStays || !rest.expiresAt().isBefore(e.restoredUntil))) {
                batch.add(add(me.getKey(), rest, now));
                rewritten.put(me.getKey(), rest.holder().leaf());
            } else {
                Duration left = Duration.between(now, e.restoredUntil);
                batch.add(new ElementChange.Add(me.getKey(), left, left.toMillis() < 1 ? Duration.ofMillis(1) : left,
                        e.restoredTags.isEmpty() ? null : HolderTags.format(e.restoredTags), null));
                rewritten.put(me.getKey(), null);
            }
        }
        if (!batch.isEmpty()) {
            writer.apply(batch);
        }
        toClose.clear();
        Set<GrantDecision> closed = new LinkedHashSet<>();
        for (Map.Entry<GrantElement, List<GrantDecision>> c : closing.entrySet()) {
            Entry e = elements.get(c.getKey());
            for (GrantDecision d : c.getValue()) {
                e.holds.remove(d.holder().leaf());
                releaseCertificate(d.holder().leaf());
                if (release(d)) {
                    closed.add(d);
                }
            }
            if (restoredClosing.contains(c.getKey())) {
                e.restoredUntil = null;
                e.restoredTags = Set.of();
            }
            if (e.isEmpty()) {
                elements.remove(c.getKey());
            } else if (rewritten.containsKey(c.getKey())) {
                e.writtenUntil = e.until();
                e.writtenBy = rewritten.get(c.getKey());
            }
        }
        for (GrantDecision d : closed) {
            log.info("CLOSE {} {} (certificate serial {} or a CA of its path revoked)", d.address().getHostAddress(),
                    d.grants(), d.serial().toString(16));
            listener.grantClosed(d, CloseReason.REVOKED);
        }
        if (!restoredClosing.isEmpty()) {
            log.info("CLOSE {} grant element(s) opened before the restart (their certificate or a CA of its path revoked)",
                    restoredClosing.size());
        }
        return closed.size() + restoredClosing.size();
    }

    /**
     * For a backend that does not expire elements by itself: makes sure the ledger wakes up at the next expiry (or in
     * a second, when a removal waits to be retried).
     */
    private void scheduleWake(Instant now) {
        if (waker == null) {
            return;
        }
        Instant next = null;
        for (Entry e : elements.values()) {
            Instant u = e.isEmpty() ? now.plusSeconds(1) : e.until();
            if (next == null || u.isBefore(next)) {
                next = u;
            }
        }
        if (next == null || (wake != null && !wake.isDone() && wakeAt != null && !next.isBefore(wakeAt))) {
            return;
        }
        if (wake != null) {
            wake.cancel(false);
        }
        wakeAt = next;
        long delay = Math.max(0, Duration.between(now, next).toMillis()) + 1;
        wake = waker.schedule(this::wakeUp, delay, TimeUnit.MILLISECONDS);
    }

    private synchronized void wakeUp() {
        wakeAt = null;
        if (!started) {
            return;
        }
        Instant now = clock.instant();
        expire(now, true);
        scheduleWake(now);
    }

    /** The grants open now (decisions of this run; elements from before a restart are not decisions). */
    @Override
    public synchronized List<GrantDecision> active(Instant now) {
        expire(now, true);
        if (!toClose.isEmpty()) {
            try {
                closeRevoked(now);
            } catch (FirewallException e) {
                if (warnings.acquire().isPresent()) {
                    log.warn("the firewall still refuses to close the grants of {} revoked certificate(s): {}",
                            toClose.size(), LogText.of(e.getMessage()));
                }
            }
        }
        return List.copyOf(holdCount.keySet());
    }

    /** Distinct elements open now (tests, statistics). */
    public synchronized int elementCount() {
        return elements.size();
    }

    /** Distinct elements this certificate holds now. */
    public synchronized int elementCount(CertRef leaf) {
        return perCertificate.getOrDefault(leaf, 0);
    }

    public ElementWriter writer() {
        return writer;
    }

    /**
     * Forgets what has expired and reports it; for a backend that does not expire elements by itself, removes them
     * in one batch. The scan walks the whole ledger, so on the grant path ({@code force} false) it runs at most once
     * a second: an open costs the same with 10 or 100,000 elements open.
     */
    private void expire(Instant now, boolean force) {
        if (!force && now.isBefore(nextExpiryScan)) {
            return;
        }
        nextExpiryScan = now.plusSeconds(1);
        Set<GrantDecision> gone = new LinkedHashSet<>();
        List<GrantElement> empty = new ArrayList<>();
        for (Map.Entry<GrantElement, Entry> me : elements.entrySet()) {
            Entry e = me.getValue();
            for (Iterator<Map.Entry<CertRef, GrantDecision>> it = e.holds.entrySet().iterator(); it.hasNext();) {
                Map.Entry<CertRef, GrantDecision> h = it.next();
                if (!h.getValue().expiresAt().isAfter(now)) {
                    it.remove();
                    releaseCertificate(h.getKey());
                    if (release(h.getValue())) {
                        gone.add(h.getValue());
                    }
                }
            }
            if (e.restoredUntil != null && !e.restoredUntil.isAfter(now)) {
                e.restoredUntil = null;
                e.restoredTags = Set.of();
            }
            if (e.isEmpty()) {
                empty.add(me.getKey());
            }
        }
        if (!empty.isEmpty()) {
            if (writer.expiresByItself()) {
                empty.forEach(elements::remove);
            } else {
                List<ElementChange> removes = new ArrayList<>();
                empty.forEach(el -> removes.add(new ElementChange.Remove(el)));
                try {
                    writer.apply(removes);
                    empty.forEach(elements::remove);
                } catch (FirewallException ex) {
                    // kept with no holder: retried at the next scan; never reopened for anyone by mistake
                    if (warnings.acquire().isPresent()) {
                        log.warn("cannot close {} expired grant element(s), retrying each second: {}", empty.size(),
                                LogText.of(ex.getMessage()));
                    }
                }
            }
        }
        for (GrantDecision d : gone) {
            log.info("CLOSE {} {} (expired)", d.address().getHostAddress(), d.grants());
            listener.grantClosed(d, CloseReason.EXPIRED);
        }
    }

    /**
     * Stops: with {@link Settings#removeAllOnStop()} empties the backend (every grant closes now), otherwise leaves
     * its elements to expire (in the kernel; for {@code command}, at the next start).
     */
    @Override
    public synchronized void close() {
        closed = true;
        Set<GrantDecision> open = new LinkedHashSet<>(holdCount.keySet());
        try {
            if (!started) {
                return;
            }
            started = false;
            if (!settings.removeAllOnStop()) {
                log.info("firewall: {} grant(s) stay open until they expire", open.size());
                return;
            }
            try {
                writer.removeAll();
                open.forEach(d -> listener.grantClosed(d, CloseReason.STOPPED));
                log.info("firewall: every grant element removed");
            } catch (FirewallException e) {
                log.error("firewall: cannot remove the grant elements; they expire on their own: {}",
                        LogText.of(e.getMessage()));
            }
        } finally {
            elements.clear();
            holdCount.clear();
            perCertificate.clear();
            if (waker != null) {
                waker.shutdownNow();
            }
            writer.close();
        }
    }
}
