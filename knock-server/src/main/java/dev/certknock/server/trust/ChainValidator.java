package dev.certknock.server.trust;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantBound;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.GrantsExtensionChecker;
import dev.certknock.protocol.grant.GrantsFormatException;
import dev.certknock.server.knock.DropReason;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import dev.certknock.server.grant.CertRef;
import java.security.Provider;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateParsingException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Validates a client's certificate chain with Bouncy Castle's PKIX (path building from the presented
 * certificates and the server's intermediates to a trust anchor, validity at the given time, CA
 * constraints) plus certknock's own rules: the leaf is no CA (basicConstraints cA=true never is a
 * client), its keyUsage, when present, allows digitalSignature, it has EKU id-kp-certknockClient and a
 * well-formed grants extension, the path has at most {@value #MAX_INTERMEDIATES} intermediates, and the leaf's
 * grants lie inside the bound of every CA of the path (trust anchor included) that carries a grants extension.
 * Revocation is a separate stage. Valid results are cached by leaf fingerprint, bounded, and dropped
 * when the CRL generation changes or the time leaves the path's validity. Path validation failures are
 * cached for {@link #FAILURE_TTL}, bounded apart from the valid ones, so the same failing chain sent
 * again costs no second validation (chain validation runs before the knock's signature is checked).
 */
public final class ChainValidator {

    private static final Provider BC = new BouncyCastleProvider();
    /**
     * The most intermediate CA certificates between the client's certificate and its trust anchor.
     * Enforced on the built path: Bouncy Castle's builder, given this as {@code maxPathLength}, accepts
     * one more.
     */
    static final int MAX_INTERMEDIATES = 4;

    /** How long a failed validation is remembered: long enough to blunt a flood, short enough to be no lockout. */
    static final Duration FAILURE_TTL = Duration.ofSeconds(5);
    /** The most failed validations remembered (fewer when the cache of valid chains is smaller). */
    static final int MAX_FAILURES = 4096;

    private record Cached(ChainResult.Valid result, long generation) {
    }

    private record Failure(ChainResult.Invalid result, long generation, long expiresAtNanos) {
    }

    private final TrustStore trust;
    private final LongSupplier generation;
    private final LongSupplier nanoTime;
    private final Map<ByteBuffer, Cached> cache;
    private final Map<ByteBuffer, Failure> failures;
    private final AtomicLong pathValidations = new AtomicLong();

    /**
     * @param generation changes whenever trust data (the CRLs) changes; cached results of another
     *     generation are not used
     * @param cacheSize the most validated chains remembered
     */
    public ChainValidator(TrustStore trust, LongSupplier generation, int cacheSize) {
        this(trust, generation, cacheSize, System::nanoTime);
    }

    /** @param nanoTime monotonic time in nanoseconds (as {@link System#nanoTime()}), for the failure cache */
    ChainValidator(TrustStore trust, LongSupplier generation, int cacheSize, LongSupplier nanoTime) {
        this.trust = trust;
        this.generation = generation;
        this.nanoTime = nanoTime;
        this.cache = lru(cacheSize);
        this.failures = lru(Math.min(cacheSize, MAX_FAILURES));
    }

    private static <V> Map<ByteBuffer, V> lru(int maxSize) {
        return new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<ByteBuffer, V> eldest) {
                return size() > maxSize;
            }
        };
    }

    /**
     * Validates the presented chain, or answers from the caches: a valid result by leaf fingerprint
     * while the CRL generation is the same and {@code now} is inside the path's validity. Otherwise the
     * cheap checks run (validity of the presented certificates at {@code now}, the leaf's own rules),
     * then the path validation, whose failure is remembered for {@link #FAILURE_TTL} (monotonic time)
     * by the leaf fingerprint together with the other presented certificates (so someone presenting a
     * client's certificate without its intermediate cannot make the client's own chain fail from the
     * cache), while the CRL generation is the same.
     */
    public ChainResult validate(List<X509Certificate> presented, byte[] leafFingerprint, Instant now) {
        ByteBuffer key = ByteBuffer.wrap(leafFingerprint.clone());
        long gen = generation.getAsLong();
        synchronized (cache) {
            Cached hit = cache.get(key);
            if (hit != null && hit.generation() == gen && hit.result().coversInstant(now)) {
                return hit.result();
            }
        }
        LeafCheck leafCheck = checkLeaf(presented, now);
        if (leafCheck.refused() != null) {
            return leafCheck.refused();
        }
        ByteBuffer failureKey = failureKey(presented, leafFingerprint);
        long nowNanos = nanoTime.getAsLong();
        if (failureKey != null) {
            synchronized (cache) {
                Failure failed = failures.get(failureKey);
                if (failed != null) {
                    if (failed.generation() == gen && nowNanos - failed.expiresAtNanos() < 0) {
                        return failed.result();
                    }
                    failures.remove(failureKey);
                }
            }
        }
        pathValidations.incrementAndGet();
        ChainResult result = validatePath(presented, leafCheck.grants(), now);
        synchronized (cache) {
            if (result instanceof ChainResult.Valid valid) {
                cache.put(key, new Cached(valid, gen));
            } else if (failureKey != null) {
                failures.put(failureKey, new Failure((ChainResult.Invalid) result, gen, nowNanos + FAILURE_TTL.toNanos()));
            }
        }
        return result;
    }

    /** Drops every cached result, valid or failed (trust anchors changed). */
    public void invalidate() {
        synchronized (cache) {
            cache.clear();
            failures.clear();
        }
    }

    /** How many PKIX path validations ran: the expensive step, not answered from either cache. */
    public long pathValidations() {
        return pathValidations.get();
    }

    /** Failed validations remembered now (expired ones included until looked up or evicted). */
    int cachedFailures() {
        synchronized (cache) {
            return failures.size();
        }
    }

    /** SHA-256 over the leaf fingerprint and every further presented certificate; null if one cannot be encoded. */
    private static ByteBuffer failureKey(List<X509Certificate> presented, byte[] leafFingerprint) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(leafFingerprint);
            for (int i = 1; i < presented.size(); i++) {
                byte[] der = presented.get(i).getEncoded();
                sha256.update(ByteBuffer.allocate(Integer.BYTES).putInt(der.length).array());
                sha256.update(der);
            }
            return ByteBuffer.wrap(sha256.digest());
        } catch (GeneralSecurityException e) {
            return null;
        }
    }

    /** The cheap checks' outcome: a refusal, or the leaf's grants for the path validation. */
    private record LeafCheck(ChainResult.Invalid refused, CertknockGrants grants) {
    }

    /** Validity of every presented certificate at {@code now}, then the leaf's own rules (no caching needed). */
    private static LeafCheck checkLeaf(List<X509Certificate> presented, Instant now) {
        X509Certificate leaf = presented.get(0);
        Date at = Date.from(now);
        for (X509Certificate c : presented) {
            if (at.after(c.getNotAfter())) {
                return refused(DropReason.CERTIFICATE_EXPIRED, "certificate expired");
            }
            if (at.before(c.getNotBefore())) {
                return refused(DropReason.CERTIFICATE_NOT_YET_VALID, "certificate not yet valid");
            }
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku == null || !eku.contains(CertknockOids.KP_CLIENT.getId())) {
                return refused(DropReason.MISSING_CLIENT_EKU, "no id-kp-certknockClient EKU");
            }
        } catch (CertificateParsingException e) {
            return refused(DropReason.MISSING_CLIENT_EKU, "EKU extension unreadable");
        }
        if (leaf.getBasicConstraints() >= 0) {
            return refused(DropReason.UNTRUSTED_CHAIN, "leaf is a CA certificate (basicConstraints cA=true)");
        }
        boolean[] keyUsage = leaf.getKeyUsage();
        if (keyUsage != null && (keyUsage.length == 0 || !keyUsage[0])) {
            return refused(DropReason.UNTRUSTED_CHAIN, "leaf keyUsage without digitalSignature");
        }
        CertknockGrants grants;
        try {
            var g = GrantsExtension.fromCertificate(leaf);
            if (g.isEmpty()) {
                return refused(DropReason.MISSING_GRANTS, "no certknock grants extension");
            }
            grants = g.get();
        } catch (GrantsFormatException e) {
            return refused(DropReason.MALFORMED_GRANTS, "grants extension malformed");
        }
        return new LeafCheck(null, grants);
    }

    private static LeafCheck refused(DropReason reason, String detail) {
        return new LeafCheck(new ChainResult.Invalid(reason, detail), null);
    }

    /** The expensive part: builds and validates a PKIX path to a trust anchor. */
    private ChainResult validatePath(List<X509Certificate> presented, CertknockGrants grants, Instant now) {
        X509Certificate leaf = presented.get(0);
        Date at = Date.from(now);
        try {
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(leaf);
            PKIXBuilderParameters params = new PKIXBuilderParameters(trust.trustAnchors(), target);
            params.setRevocationEnabled(false);
            params.setDate(at);
            params.setMaxPathLength(MAX_INTERMEDIATES);
            params.addCertPathChecker(new GrantsExtensionChecker());
            List<X509Certificate> pool = new ArrayList<>(presented);
            pool.addAll(trust.intermediates());
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool), BC));
            PKIXCertPathBuilderResult built = (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX", BC).build(params);
            if (built.getCertPath().getCertificates().size() - 1 > MAX_INTERMEDIATES) {
                return new ChainResult.Invalid(DropReason.UNTRUSTED_CHAIN,
                        "more than " + MAX_INTERMEDIATES + " intermediate CA certificates");
            }
            List<X509Certificate> path = new ArrayList<>();
            Instant notBefore = Instant.MIN;
            Instant notAfter = Instant.MAX;
            for (var c : built.getCertPath().getCertificates()) {
                X509Certificate x = (X509Certificate) c;
                path.add(x);
                notBefore = later(notBefore, x.getNotBefore().toInstant());
                notAfter = earlier(notAfter, x.getNotAfter().toInstant());
            }
            X509Certificate anchor = built.getTrustAnchor().getTrustedCert();
            if (anchor != null) {
                notBefore = later(notBefore, anchor.getNotBefore().toInstant());
                notAfter = earlier(notAfter, anchor.getNotAfter().toInstant());
            }
            // Each certificate as its issuer's CRL names it: the next one's key, the anchor's for the last.
            List<CertRef> refs = new ArrayList<>(path.size());
            for (int i = 0; i < path.size(); i++) {
                PublicKey issuerKey = i + 1 < path.size() ? path.get(i + 1).getPublicKey()
                        : anchor != null ? anchor.getPublicKey() : built.getTrustAnchor().getCAPublicKey();
                refs.add(new CertRef(CertRef.keyIdOf(issuerKey), path.get(i).getSerialNumber()));
            }
            List<X509Certificate> cas = new ArrayList<>(path.subList(1, path.size()));
            if (anchor != null) {
                cas.add(anchor);
            }
            Bounded bounded = checkBounds(grants, cas);
            if (bounded.refused() != null) {
                return bounded.refused();
            }
            return new ChainResult.Valid(path, refs, grants, bounded.cap(), notBefore, notAfter);
        } catch (GeneralSecurityException | RuntimeException e) {
            return new ChainResult.Invalid(DropReason.UNTRUSTED_CHAIN, "no valid path to a trust anchor");
        }
    }

    /** The bound check's outcome: a refusal, or the least maxOpenSeconds the CAs set. */
    private record Bounded(ChainResult.Invalid refused, OptionalInt cap) {
    }

    /**
     * The leaf's grants against the grants extension of every CA of the validated path, nearest first, trust anchor
     * last: each CA that carries one bounds the leaf (docs/GRANT-EXTENSION.md); one that cannot be read refuses (fail
     * closed). A CA without the extension costs one extension lookup. Runs once per validated path: its result is
     * cached with it.
     */
    static Bounded checkBounds(CertknockGrants leaf, List<X509Certificate> cas) {
        OptionalInt cap = OptionalInt.empty();
        for (int i = 0; i < cas.size(); i++) {
            X509Certificate ca = cas.get(i);
            String who = "CA " + (i + 1) + " above the client certificate ('" + ca.getSubjectX500Principal().getName() + "')";
            Optional<CertknockGrants> bound;
            try {
                bound = GrantsExtension.fromCertificate(ca);
            } catch (GrantsFormatException e) {
                return new Bounded(new ChainResult.Invalid(DropReason.GRANT_OUTSIDE_CA_BOUND,
                        who + " has a grants extension that cannot be read, so its bound is unknown: " + e.getMessage()), cap);
            }
            if (bound.isEmpty()) {
                continue;
            }
            List<String> crossed = GrantBound.crossings(bound.get(), leaf);
            if (!crossed.isEmpty()) {
                return new Bounded(new ChainResult.Invalid(DropReason.GRANT_OUTSIDE_CA_BOUND,
                        "outside the bound of " + who + ": " + String.join("; ", crossed)), cap);
            }
            cap = GrantBound.cap(cap, bound.get());
        }
        return new Bounded(null, cap);
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Instant earlier(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
