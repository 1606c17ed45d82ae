package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.event.LogText;
import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantRevokedException;
import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nftables} backend. Grants are elements of the sets {@code allow4}/{@code allow6} of the
 * server's own table, each with a timeout: the kernel closes every grant on time by itself, even if the
 * server is killed. Every change is one atomic {@code nft -f -} batch.
 *
 * <p>An in-memory index maps each element to the decisions (one per certificate) that hold it, so a
 * repeated knock refreshes its elements instead of duplicating them, an element shared by two
 * certificates stays open until the later of their expiries, and a revocation deletes exactly the
 * revoked certificate's elements. Each element also carries a comment naming its certificate (serial
 * and a hash of the issuer, hex only), so after a restart, with the index empty, a revocation still
 * finds the elements opened before. Limits: the comment is set when the element is created and names
 * that certificate; a later certificate refreshing the same element is found only through the index.
 *
 * <p>The kernel is reached in-process through libnftables ({@link LibNftExecutor}) when it can be loaded,
 * otherwise through one {@code nft} process per batch; the start-up log says which. Grants that arrive
 * while a batch is being committed go into the next batch together (see {@link #open}).
 *
 * <p>Thread-safe: every method holds the object's lock, including while a batch is committed.
 */
public final class NftablesFirewall implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(NftablesFirewall.class);

    /** How long a revocation is remembered against knocks still in the pipeline: far longer than one takes. */
    static final Duration REVOKED_MEMORY = Duration.ofMinutes(5);
    static final int MAX_REVOKED_REMEMBERED = 65_536;

    /** Who holds an element: one entry per certificate. */
    private record CertKey(X500Principal issuer, BigInteger serial) {
    }

    private final NftSettings settings;
    private final NftExecutor executor;
    private final NftRenderer renderer;
    private final Clock clock;
    private final KnockEventListener listener;
    private final Map<NftElement, Map<CertKey, GrantDecision>> holders = new LinkedHashMap<>();
    private final Queue<PendingOpen> pending = new ConcurrentLinkedQueue<>();
    /**
     * Certificates revoked in the last {@link #REVOKED_MEMORY}, newest last, at most {@link #MAX_REVOKED_REMEMBERED}:
     * a knock that passed the revocation check before their CRL landed must not open after its grants were closed.
     */
    private final LinkedHashMap<CertKey, Instant> recentlyRevoked = new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<CertKey, Instant> eldest) {
            return size() > MAX_REVOKED_REMEMBERED;
        }
    };
    private boolean started;
    /** When the index is next scanned for expired grants (at most once a second: see {@link #expire}). */
    private Instant nextExpiryScan = Instant.MIN;

    public NftablesFirewall(NftSettings settings, NftExecutor executor, Clock clock, KnockEventListener listener) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.renderer = new NftRenderer(settings.table());
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Talks to the kernel in-process through libnftables when it can be loaded and no command prefix is set;
     * otherwise runs {@code nft} as a child process per batch, after the settings' command prefix.
     */
    public NftablesFirewall(NftSettings settings, Clock clock, KnockEventListener listener) {
        this(settings, executorFor(settings), clock, listener);
    }

    private static NftExecutor executorFor(NftSettings settings) {
        if (settings.commandPrefix().isEmpty()) {
            Optional<LibNftExecutor> lib = LibNftExecutor.load();
            if (lib.isPresent()) {
                return lib.get();
            }
        }
        return new ProcessNftExecutor(settings.commandPrefix());
    }

    /** How this backend reaches the kernel, for the start-up log. */
    private String executorDescription() {
        if (executor instanceof LibNftExecutor) {
            return "in-process through libnftables";
        }
        if (executor instanceof ProcessNftExecutor) {
            return settings.commandPrefix().isEmpty()
                    ? "one nft process per batch (libnftables.so.1 cannot be loaded; install libnftables1)"
                    : "one nft process per batch, through " + String.join(" ", settings.commandPrefix());
        }
        return executor.getClass().getSimpleName();
    }

    /**
     * Creates the table or reconciles it with the settings, idempotently (see
     * {@link NftRenderer#setup}). Grants already in the sets are kept and expire on their own schedule.
     */
    public synchronized void start() throws FirewallException {
        executor.apply(renderer.setup(settings));
        started = true;
        int kept = kernelElements().size();
        warmUp();
        LOG.info("nftables: table inet {} ready (input priority {}, knock port udp/{} dropped, {} {}); {} grant elements kept from before; {}",
                settings.table(), NftRenderer.PRIORITY, settings.knockPort(), settings.reject() ? "rejecting" : "dropping",
                settings.protect(), kept, executorDescription());
    }

    /**
     * Runs the grant path once without changing anything: a dry run ({@code nft -c}) of adding one element
     * of each family, so the first real grant does not pay for loading and caching what nft needs.
     */
    private void warmUp() {
        try {
            List<NftEntry> probe = List.of(
                    new NftEntry(new NftElement(InetAddress.getByAddress(new byte[4]),
                            PortGrant.single(Protocol.TCP, 9)), Duration.ofSeconds(1), Duration.ofSeconds(1), null),
                    new NftEntry(new NftElement(InetAddress.getByAddress(new byte[16]),
                            PortGrant.single(Protocol.TCP, 9)), Duration.ofSeconds(1), Duration.ofSeconds(1), null));
            executor.check(renderer.add(probe));
        } catch (FirewallException | UnknownHostException e) {
            LOG.debug("nftables warm-up dry run failed (grants are unaffected): {}", LogText.of(e.getMessage()));
        }
    }

    /**
     * Opens (or refreshes) the grant. Grants that arrive while another thread is committing are committed
     * together, in one batch (one netlink transaction): a caller queues its decision, takes the lock, and
     * commits everything queued unless a thread before it already did. A batch the kernel refuses is retried
     * one decision at a time, so one bad decision cannot fail another's grant.
     */
    @Override
    public void open(GrantDecision d) throws FirewallException {
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
    }

    /** How many decisions wait for the next batch (tests). */
    int queuedForTest() {
        return pending.size();
    }

    /** Queues a decision as another thread would, without committing it (tests). */
    void queueForTest(GrantDecision d) {
        pending.add(new PendingOpen(d));
    }

    /** A decision waiting to be committed, and what became of it (written and read under the lock). */
    private static final class PendingOpen {
        final GrantDecision decision;
        boolean done;
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
        Instant now = clock.instant();
        expire(now, false);
        try {
            commit(batch, now);
        } catch (FirewallException e) {
            if (batch.size() == 1) {
                batch.get(0).failure = e;
            } else {
                LOG.debug("batch of {} grants refused, committing them one by one: {}", batch.size(), e.getMessage());
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

    /** Adds every live decision's elements in one batch; only then records them and reports the grants. */
    private void commit(List<PendingOpen> batch, Instant now) throws FirewallException {
        Map<NftElement, Map<CertKey, GrantDecision>> changed = new LinkedHashMap<>();
        List<GrantDecision> opened = new ArrayList<>();
        for (PendingOpen p : batch) {
            GrantDecision d = p.decision;
            if (!d.expiresAt().isAfter(now)) {
                LOG.debug("not opening {} {}: it expired at {}", d.address().getHostAddress(), d.grants(), d.expiresAt());
                continue;
            }
            CertKey key = key(d);
            Instant revokedAt = recentlyRevoked.get(key);
            if (revokedAt != null && revokedAt.plus(REVOKED_MEMORY).isAfter(now)) {
                p.failure = new GrantRevokedException("certificate serial " + d.serial().toString(16)
                        + " was revoked at " + revokedAt + ", after its knock passed the revocation check; nothing opened");
                continue;
            }
            for (PortGrant g : d.grants()) {
                NftElement element = new NftElement(d.address(), g);
                Map<CertKey, GrantDecision> h = changed.get(element);
                if (h == null) {
                    h = new LinkedHashMap<>(holders.getOrDefault(element, Map.of()));
                    changed.put(element, h);
                }
                h.put(key, d);
            }
            opened.add(d);
        }
        if (opened.isEmpty()) {
            return;
        }
        List<NftEntry> entries = new ArrayList<>();
        changed.forEach((element, h) -> entries.add(entry(element, h, now)));
        executor.apply(renderer.add(entries));
        holders.putAll(changed);
        for (GrantDecision d : opened) {
            LOG.info("GRANT {} {} for {} s (until {}) to {} serial {}", d.address().getHostAddress(), d.grants(),
                    d.duration().toSeconds(), d.expiresAt(), LogText.of(d.subject().getName()), d.serial().toString(16));
            listener.grantOpened(d);
        }
    }

    @Override
    public int closeCertificate(X500Principal issuer, BigInteger serial) throws FirewallException {
        return closeCertificates(issuer, Set.of(serial));
    }

    /**
     * Closes the open grants of all these certificates of one issuer with one listing of the kernel's elements
     * (for those opened before a restart) and one batch, however many serials a CRL newly revokes.
     */
    @Override
    public synchronized int closeCertificates(X500Principal issuer, Set<BigInteger> serials) throws FirewallException {
        if (serials.isEmpty()) {
            return 0;
        }
        Instant now = clock.instant();
        expire(now, true);
        Set<CertKey> keys = new HashSet<>();
        Set<String> tags = new HashSet<>();
        for (BigInteger serial : serials) {
            CertKey key = new CertKey(issuer, serial);
            keys.add(key);
            tags.add(tag(key));
            recentlyRevoked.remove(key);
            recentlyRevoked.put(key, now); // remembered first: even if the batch below fails, nothing new opens
        }
        Set<NftElement> remove = new LinkedHashSet<>();
        List<NftEntry> keep = new ArrayList<>();
        Map<NftElement, Map<CertKey, GrantDecision>> after = new LinkedHashMap<>();
        Set<GrantDecision> closed = new LinkedHashSet<>();
        holders.forEach((element, h) -> {
            Map<CertKey, GrantDecision> rest = new LinkedHashMap<>(h);
            boolean touched = false;
            for (CertKey key : h.keySet()) {
                if (keys.contains(key)) {
                    closed.add(rest.remove(key));
                    touched = true;
                }
            }
            if (!touched) {
                return;
            }
            after.put(element, rest);
            remove.add(element);
            if (!rest.isEmpty()) {
                // Deleted and added again in the same batch: the other certificate keeps it, with its own
                // expiry and comment, and no packet ever sees it missing.
                keep.add(entry(element, rest, now));
            }
        });
        int orphans = 0;
        try {
            for (NftListing.Listed listed : kernelElements()) {
                if (listed.comment() != null && tags.contains(listed.comment())
                        && !holders.containsKey(listed.element()) && remove.add(listed.element())) {
                    orphans++;
                }
            }
        } catch (FirewallException e) {
            LOG.warn("cannot list table inet {} to find grants opened before the restart by {} revoked serial(s): {}",
                    settings.table(), serials.size(), LogText.of(e.getMessage()));
        }
        if (remove.isEmpty()) {
            return 0;
        }
        executor.apply(renderer.delete(remove) + renderer.add(keep));
        after.forEach((element, rest) -> {
            if (rest.isEmpty()) {
                holders.remove(element);
            } else {
                holders.put(element, rest);
            }
        });
        for (GrantDecision d : closed) {
            LOG.info("CLOSE {} {} (certificate serial {} revoked)", d.address().getHostAddress(), d.grants(),
                    d.serial().toString(16));
            listener.grantClosed(d, "revoked");
        }
        if (orphans > 0) {
            LOG.info("CLOSE {} grant elements opened before the restart ({} certificate serial(s) revoked)", orphans,
                    serials.size());
        }
        return closed.size() + orphans;
    }

    /**
     * The grants this server opened that the kernel still holds (at least one of their elements is in
     * the sets). Grants opened before a restart are not decisions this process knows; see
     * {@link #kernelElements()}. When nft cannot be run, the index alone answers and a warning is logged.
     */
    @Override
    public synchronized List<GrantDecision> active(Instant now) {
        expire(now, true);
        Set<NftElement> present;
        try {
            present = new HashSet<>();
            for (NftListing.Listed listed : kernelElements()) {
                present.add(listed.element());
            }
        } catch (FirewallException e) {
            LOG.warn("cannot list table inet {}, answering from memory: {}", settings.table(), LogText.of(e.getMessage()));
            present = null;
        }
        Set<GrantDecision> out = new LinkedHashSet<>();
        for (Map.Entry<NftElement, Map<CertKey, GrantDecision>> e : holders.entrySet()) {
            if (present == null || present.contains(e.getKey())) {
                out.addAll(e.getValue().values());
            }
        }
        return List.copyOf(out);
    }

    /** Every element the kernel holds in the grant sets now, including those opened before a restart. */
    public synchronized List<NftListing.Listed> kernelElements() throws FirewallException {
        String json = executor.query(renderer.listArguments());
        try {
            return NftListing.parse(json, settings.table());
        } catch (IllegalArgumentException e) {
            throw new FirewallException("cannot read the listing of table inet " + settings.table() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Stops: with {@code flushOnStop} empties the grant sets (every grant closes now), otherwise leaves
     * them to expire in the kernel. The table and its rules stay, so protected ports stay closed.
     */
    @Override
    public synchronized void close() {
        Set<GrantDecision> open = new LinkedHashSet<>();
        holders.values().forEach(h -> open.addAll(h.values()));
        holders.clear();
        try {
            if (!started) {
                return;
            }
            started = false;
            if (!settings.flushOnStop()) {
                LOG.info("nftables: {} grants stay open until the kernel expires them", open.size());
                return;
            }
            try {
                executor.apply(renderer.flushSets());
                open.forEach(d -> listener.grantClosed(d, "stopped"));
                LOG.info("nftables: grant sets of table inet {} flushed", settings.table());
            } catch (FirewallException e) {
                LOG.error("nftables: cannot flush the grant sets of table inet {}; they expire on their own: {}",
                        settings.table(), LogText.of(e.getMessage()));
            }
        } finally {
            if (executor instanceof LibNftExecutor lib) {
                lib.close();
            }
        }
    }

    /**
     * Forgets what has expired (the kernel has dropped those elements by itself) and reports it. The scan
     * walks the whole index, so on the grant path ({@code force} false) it runs at most once a second: an
     * open costs about the same with 10 or 100,000 grants open, and a grant's closing is reported at most a
     * second late (the kernel closes it on time). Listings and revocations scan every time.
     */
    private void expire(Instant now, boolean force) {
        if (!force && now.isBefore(nextExpiryScan)) {
            return;
        }
        nextExpiryScan = now.plusSeconds(1);
        Set<GrantDecision> gone = new LinkedHashSet<>();
        Set<GrantDecision> alive = new HashSet<>();
        for (Iterator<Map.Entry<NftElement, Map<CertKey, GrantDecision>>> it = holders.entrySet().iterator(); it.hasNext();) {
            Map<CertKey, GrantDecision> h = it.next().getValue();
            for (Iterator<GrantDecision> ds = h.values().iterator(); ds.hasNext();) {
                GrantDecision d = ds.next();
                if (!d.expiresAt().isAfter(now)) {
                    ds.remove();
                    gone.add(d);
                } else {
                    alive.add(d);
                }
            }
            if (h.isEmpty()) {
                it.remove();
            }
        }
        gone.removeAll(alive);
        gone.forEach(d -> listener.grantClosed(d, "expired"));
    }

    /** The element with the timing of the holder that expires last, tagged with that holder. */
    private NftEntry entry(NftElement element, Map<CertKey, GrantDecision> h, Instant now) {
        Map.Entry<CertKey, GrantDecision> latest = null;
        for (Map.Entry<CertKey, GrantDecision> e : h.entrySet()) {
            if (latest == null || e.getValue().expiresAt().isAfter(latest.getValue().expiresAt())) {
                latest = e;
            }
        }
        Duration left = Duration.between(now, latest.getValue().expiresAt());
        Duration expires = Duration.ofMillis(Math.max(1, (left.toNanos() + 999_999) / 1_000_000));
        Duration timeout = latest.getValue().duration().truncatedTo(ChronoUnit.MILLIS);
        if (timeout.compareTo(expires) < 0) {
            timeout = expires;
        }
        return new NftEntry(element, timeout, expires, tag(latest.getKey()));
    }

    private static CertKey key(GrantDecision d) {
        return new CertKey(d.issuer(), d.serial());
    }

    /**
     * The comment that names a certificate in the kernel: its serial and the first 8 bytes of SHA-256 over
     * the issuer's DER name, hex only (nothing from the certificate reaches the script as text).
     */
    static String tag(X500Principal issuer, BigInteger serial) {
        return tag(new CertKey(issuer, serial));
    }

    private static String tag(CertKey key) {
        byte[] hash;
        try {
            hash = MessageDigest.getInstance("SHA-256").digest(key.issuer().getEncoded());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
        return "certknock s=" + key.serial().toString(16) + " i=" + HexFormat.of().formatHex(hash, 0, 8);
    }
}
