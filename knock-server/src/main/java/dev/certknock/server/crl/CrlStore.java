package dev.certknock.server.crl;

import dev.certknock.server.event.LogText;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertException;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLogger;

/**
 * The CRLs in force, at most one per CA key ({@link CaKey}: subject name plus a hash of the public key), and
 * revocation look-ups against them.
 *
 * <p>A CRL is accepted only if its issuer is one of the trusted CAs given at construction (whose
 * certificate allows cRLSign when it has a keyUsage extension), its signature verifies with that CA's
 * public key, its thisUpdate is not later than now plus {@link #MAX_CLOCK_SKEW}, it carries a CRL number
 * and a nextUpdate, and its number is not lower than that of the CRL held for the same CA key. It is held
 * for the key that verified it: two CAs with the same name (a new root that keeps the old name) each keep
 * their own CRL, and neither is taken as a rollback or a replacement of the other. A certificate is checked
 * against the CRL of the CA key that signed it. A CRL that is
 * already past its nextUpdate is still accepted when it passes these checks, since it is the best
 * information there is; look-ups then report {@link UnavailableReason#STALE} for its issuer's certificates
 * that it does not list as revoked.
 *
 * <p>Look-ups are lock-free: they read one volatile immutable snapshot, and find a serial by binary search in
 * the compact sorted structure built when the CRL was accepted ({@link RevokedSerials}); nothing else of the
 * CRL is kept. Offers are serialised.
 */
public final class CrlStore {

    /** How far in the future a CRL's thisUpdate may lie (the CA's clock may run a little ahead of ours). */
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

    private static final Logger LOG = LoggerFactory.getLogger(CrlStore.class);
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final RevocationStatus NO_CRL = new RevocationStatus.Unavailable(UnavailableReason.NO_CRL);
    private static final RevocationStatus STALE = new RevocationStatus.Unavailable(UnavailableReason.STALE);

    /** A trusted CA certificate, its key, and its subject key identifier (only to try the AKI's CA first). */
    private record TrustedIssuer(X509Certificate certificate, CaKey key, byte[] subjectKeyId) {
    }

    /**
     * What is kept of an accepted CRL: its numbers and times, a digest of its bytes (to see the same CRL again)
     * and its entries in compact form. Neither the bytes nor any decoded CRL object is kept, so what a CRL costs
     * after acceptance is bounded by its size (see {@link RevokedSerials}).
     */
    private record Held(byte[] sha256, CaKey key, BigInteger number, Instant thisUpdate,
            Instant nextUpdate, Instant staleAfter, RevokedSerials revoked, String origin, Instant acceptedAt) {

        X500Principal issuer() {
            return key.name();
        }

        CrlInfo info() {
            return new CrlInfo(key.name(), number, thisUpdate, nextUpdate, staleAfter, revoked.size(), origin, acceptedAt,
                    key.keyId());
        }
    }

    private record Snapshot(Map<CaKey, Held> byKey, long generation) {
    }

    /**
     * The most intermediate CA keys learned from validated paths ({@link #learnIntermediates}); more are not learned
     * (knocks under them fail closed) and a WARN says so once.
     */
    public static final int MAX_LEARNED_KEYS = 64;
    /** The most CRLs of not (yet) known issuers kept until their CA is learned, and their total size. */
    static final int MAX_PENDING = 8;
    static final long MAX_PENDING_BYTES = 16L << 20;

    /** A CRL refused as UNKNOWN_ISSUER, kept until a validated path teaches the store its CA. */
    private record Pending(byte[] der, String origin) {
    }

    /**
     * Trusted CA certificates by subject name (several per name when CAs share a name): the configured ones, then
     * intermediates learned from validated paths. Replaced whole under updateLock, read lock-free.
     */
    private volatile Map<X500Principal, List<TrustedIssuer>> trusted;
    /** Guarded by updateLock. */
    private int learned;
    private boolean learnLimitReported;
    private final LinkedHashMap<X500Principal, Pending> pending = new LinkedHashMap<>();
    private long pendingBytes;
    private final Clock clock;
    /** The class's logger, or a no-operation one ({@link #silent}). */
    private final Logger log;
    private final Duration staleGrace;
    private final Object updateLock = new Object();
    private final List<CrlListener> listeners = new CopyOnWriteArrayList<>();
    /** Freshness last reported per CA key; guarded by updateLock. */
    private final Map<CaKey, Boolean> reportedFresh = new HashMap<>();
    private volatile Snapshot snapshot = new Snapshot(Map.of(), 0);

    /**
     * @param trustedIssuers CA certificates whose CRLs are accepted (trust anchors and intermediates)
     * @param clock          the time for freshness and thisUpdate checks
     * @param staleGrace     how long past nextUpdate a CRL still counts as fresh
     */
    public CrlStore(List<X509Certificate> trustedIssuers, Clock clock, Duration staleGrace) {
        this(trustedIssuers, clock, staleGrace, LOG);
    }

    /** A store that logs nothing: the start-up rehearsal's, over a throwaway CA (operators never see it). */
    public static CrlStore silent(List<X509Certificate> trustedIssuers, Clock clock, Duration staleGrace) {
        return new CrlStore(trustedIssuers, clock, staleGrace, NOPLogger.NOP_LOGGER);
    }

    private CrlStore(List<X509Certificate> trustedIssuers, Clock clock, Duration staleGrace, Logger log) {
        this.log = log;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.staleGrace = Objects.requireNonNull(staleGrace, "staleGrace");
        if (staleGrace.isNegative()) {
            throw new IllegalArgumentException("staleGrace must not be negative: " + staleGrace);
        }
        Map<X500Principal, List<TrustedIssuer>> byName = new LinkedHashMap<>();
        for (X509Certificate ca : trustedIssuers) {
            List<TrustedIssuer> same = byName.computeIfAbsent(ca.getSubjectX500Principal(), k -> new ArrayList<>());
            TrustedIssuer issuer = new TrustedIssuer(ca, CaKey.of(ca), subjectKeyId(ca));
            // the same key in several certificates (a renewed CA certificate) is one CA key: keep one, one that may
            // sign CRLs if there is such
            int at = indexOfKey(same, issuer.key());
            if (at < 0) {
                same.add(issuer);
            } else if (!mayIssueCrls(same.get(at).certificate()) && mayIssueCrls(ca)) {
                same.set(at, issuer);
            }
        }
        byName.replaceAll((k, v) -> List.copyOf(v));
        this.trusted = Collections.unmodifiableMap(byName);
    }

    private static int indexOfKey(List<TrustedIssuer> issuers, CaKey key) {
        for (int i = 0; i < issuers.size(); i++) {
            if (issuers.get(i).key().equals(key)) {
                return i;
            }
        }
        return -1;
    }

    public void addListener(CrlListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(CrlListener listener) {
        listeners.remove(listener);
    }

    /**
     * Learns the intermediate CA certificates of a validated path (one that chains to a trust anchor), so that
     * the CRLs they sign are accepted, as for those in {@code trust.intermediates}: a client may send its
     * intermediate in the knock instead of the server holding it. A CRL of such a CA that was refused before as
     * {@link RejectionReason#UNKNOWN_ISSUER} (fetched or cached before any knock showed its CA) is kept, bounded,
     * and offered again here, so the first knock under the intermediate is checked against it. Cheap when
     * nothing is new (a hash of each intermediate's key); at most {@link #MAX_LEARNED_KEYS} keys are learned.
     *
     * <p>Only call this with a path that validated: the store trusts it to chain to an anchor.
     *
     * @param validatedPath leaf first, then the intermediates, without the anchor
     */
    public void learnIntermediates(List<X509Certificate> validatedPath) {
        for (int i = 1; i < validatedPath.size(); i++) {
            X509Certificate ca = validatedPath.get(i);
            if (ca.getBasicConstraints() < 0) {
                continue;
            }
            CaKey key = CaKey.of(ca);
            if (!known(key)) {
                learn(ca, key);
            }
        }
    }

    private boolean known(CaKey key) {
        List<TrustedIssuer> same = trusted.get(key.name());
        return same != null && indexOfKey(same, key) >= 0;
    }

    private void learn(X509Certificate ca, CaKey key) {
        Pending held;
        synchronized (updateLock) {
            if (known(key)) {
                return;
            }
            if (learned >= MAX_LEARNED_KEYS) {
                if (!learnLimitReported) {
                    learnLimitReported = true;
                    log.warn("Not learning intermediate CA {} from a validated path: {} intermediates were learned "
                            + "already; knocks under it fail closed (no CRL): list it in trust.intermediates", LogText.of(key.toString()),
                            MAX_LEARNED_KEYS);
                }
                return;
            }
            Map<X500Principal, List<TrustedIssuer>> next = new LinkedHashMap<>(trusted);
            List<TrustedIssuer> same = new ArrayList<>(next.getOrDefault(key.name(), List.of()));
            same.add(new TrustedIssuer(ca, key, subjectKeyId(ca)));
            next.put(key.name(), List.copyOf(same));
            trusted = Collections.unmodifiableMap(next);
            learned++;
            held = pending.remove(key.name());
            if (held != null) {
                pendingBytes -= held.der().length;
            }
            log.info("Learned intermediate CA {} from a validated path: its CRLs are accepted from now on{}", LogText.of(key.toString()),
                    held == null ? " (none held yet: knocks under it fail closed until one is fetched)" : "");
        }
        if (held != null) {
            offer(held.der(), held.origin());
        }
    }

    /** Keeps a CRL of an issuer the store does not know, bounded, for {@link #learnIntermediates}. */
    private void keepPending(X500Principal issuer, byte[] der, String origin) {
        if (der.length > MAX_PENDING_BYTES) {
            return;
        }
        synchronized (updateLock) {
            if (trusted.containsKey(issuer)) {
                return;
            }
            Pending before = pending.remove(issuer);
            if (before != null) {
                pendingBytes -= before.der().length;
            }
            while (!pending.isEmpty() && (pending.size() >= MAX_PENDING || pendingBytes + der.length > MAX_PENDING_BYTES)) {
                Map.Entry<X500Principal, Pending> eldest = pending.entrySet().iterator().next();
                pendingBytes -= eldest.getValue().der().length;
                pending.remove(eldest.getKey());
            }
            pending.put(issuer, new Pending(der.clone(), origin));
            pendingBytes += der.length;
        }
    }

    /** The issuer names whose CRLs this store accepts. */
    public Set<X500Principal> trustedIssuers() {
        return trusted.keySet();
    }

    /** The CA keys whose CRLs this store accepts (one per trusted CA key, so several per name when CAs share a name). */
    public Set<CaKey> trustedKeys() {
        Set<CaKey> keys = new LinkedHashSet<>();
        trusted.values().forEach(list -> list.forEach(t -> keys.add(t.key())));
        return Collections.unmodifiableSet(keys);
    }

    /** The stale grace given at construction. */
    public Duration staleGrace() {
        return staleGrace;
    }

    /**
     * Offers a CRL (DER). Never throws for bad input: the result says whether it was accepted, and a
     * rejected CRL leaves the one held in force.
     *
     * @param origin where it came from (URL, file, cache), for logs, listeners and {@link #info}
     */
    public CrlUpdate offer(byte[] crlDer, String origin) {
        Objects.requireNonNull(crlDer, "crlDer");
        Objects.requireNonNull(origin, "origin");
        byte[] sha256 = CaKey.sha256(crlDer);
        for (Held held : snapshot.byKey().values()) {
            if (Arrays.equals(held.sha256(), sha256)) {
                return new CrlUpdate.Unchanged(held.issuer(), held.number());
            }
        }
        CrlParser.Parsed parsed = null;
        TrustedIssuer signer;
        CrlParser.Content content;
        try {
            parsed = CrlParser.parse(crlDer);
            signer = verifySignature(parsed);
            content = CrlParser.content(parsed);
            Instant latest = clock.instant().plus(MAX_CLOCK_SKEW);
            if (content.thisUpdate().isAfter(latest)) {
                throw new CrlRejection(RejectionReason.THIS_UPDATE_IN_FUTURE, "thisUpdate " + content.thisUpdate()
                        + " is in the future (now " + clock.instant() + ", allowed skew " + MAX_CLOCK_SKEW.toMinutes()
                        + " min); check the clocks of this host and the CA");
            }
        } catch (CrlRejection r) {
            if (r.reason() == RejectionReason.UNKNOWN_ISSUER && parsed != null) {
                keepPending(parsed.issuer(), crlDer, origin);
            }
            return rejected(origin, r);
        } catch (RuntimeException e) {
            // a decoder bug on outside bytes is a refusal, never an escape: the CRL held stays in force
            return rejected(origin, new CrlRejection(RejectionReason.UNPARSEABLE, "the CRL could not be decoded: "
                    + CrlParser.describe(e)));
        }
        CaKey key = signer.key();
        synchronized (updateLock) {
            Snapshot current = snapshot;
            Held held = current.byKey().get(key);
            if (held != null) {
                int cmp = content.number().compareTo(held.number());
                if (cmp < 0) {
                    return rejected(origin, new CrlRejection(RejectionReason.ROLLBACK, "CRL number " + content.number()
                            + " is lower than " + held.number() + ", the number of the CRL held for " + key));
                }
                if (cmp == 0 && !content.thisUpdate().isAfter(held.thisUpdate())) {
                    return new CrlUpdate.Unchanged(held.issuer(), held.number());
                }
            }
            Set<BigInteger> newlyRevoked = new HashSet<>();
            RevokedSerials revoked = content.revoked();
            for (int i = 0; i < revoked.size(); i++) {
                BigInteger serial = revoked.serial(i);
                if (held == null || !held.revoked().contains(serial)) {
                    newlyRevoked.add(serial);
                }
            }
            Instant now = clock.instant();
            Held next = new Held(sha256, key, content.number(), content.thisUpdate(),
                    content.nextUpdate(), content.nextUpdate().plus(staleGrace), revoked, origin, now);
            Map<CaKey, Held> byKey = new HashMap<>(current.byKey());
            byKey.put(key, next);
            snapshot = new Snapshot(Collections.unmodifiableMap(byKey), current.generation() + 1);
            CrlUpdate.Accepted accepted = new CrlUpdate.Accepted(crlDer, key, content.number(), newlyRevoked);
            log.info("CRL accepted: issuer {}, number {}, thisUpdate {}, nextUpdate {}, {} entries, {} newly revoked, from {}{}",
                    key, content.number(), content.thisUpdate(), content.nextUpdate(),
                    revoked.size(), newlyRevoked.size(), origin,
                    now.isAfter(next.staleAfter()) ? " (already past nextUpdate: its issuer's certificates are reported STALE)" : "");
            for (CrlListener l : listeners) {
                try {
                    l.crlAccepted(key, content.number(), accepted.newlyRevokedSerials());
                } catch (RuntimeException e) {
                    log.warn("CRL listener {} failed on crlAccepted", l, e);
                }
            }
            return accepted;
        }
    }

    /**
     * The revocation status of a certificate according to the CRL of the CA key that signed it, found among the
     * trusted CAs of its issuer name (by its authority key identifier, or by its signature when that does not
     * decide). Lock-free.
     */
    public RevocationStatus status(X509Certificate certificate) {
        return status(certificate, null);
    }

    /**
     * The revocation status of a certificate of a validated path according to the CRL of the CA key that signed
     * it: {@code issuer}'s key when given (the next certificate of the path), else as {@link #status(X509Certificate)}.
     * Lock-free, O(1) for a path given whole.
     */
    public RevocationStatus status(X509Certificate certificate, X509Certificate issuer) {
        Map<CaKey, Held> byKey = snapshot.byKey();
        CaKey key = issuer != null ? CaKey.of(issuer) : signerOf(certificate);
        Held held = key == null ? null : byKey.get(key);
        if (held == null) {
            return NO_CRL;
        }
        RevocationStatus.Revoked revoked = held.revoked().get(certificate.getSerialNumber());
        if (revoked != null) {
            return revoked;
        }
        return clock.instant().isAfter(held.staleAfter()) ? STALE : RevocationStatus.GOOD;
    }

    /** The trusted CA key that signed the certificate: the only one of its issuer name, or the one whose key verifies it. */
    private CaKey signerOf(X509Certificate certificate) {
        List<TrustedIssuer> candidates = trusted.getOrDefault(certificate.getIssuerX500Principal(), List.of());
        if (candidates.size() <= 1) {
            return candidates.isEmpty() ? null : candidates.get(0).key();
        }
        for (TrustedIssuer candidate : ordered(candidates, authorityKeyId(certificate))) {
            try {
                certificate.verify(candidate.certificate().getPublicKey(), BC);
                return candidate.key();
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this one
            }
        }
        return null;
    }

    /** Counts accepted CRLs; caches of validation results compare it to notice a change. */
    public long generation() {
        return snapshot.generation();
    }

    /** What is held for a CA name: with several CA keys of that name, the CRL of the first trusted one held. */
    public Optional<CrlInfo> info(X500Principal issuer) {
        Map<CaKey, Held> byKey = snapshot.byKey();
        return trusted.getOrDefault(issuer, List.of()).stream().map(t -> byKey.get(t.key())).filter(Objects::nonNull)
                .findFirst().map(Held::info);
    }

    /** What is held for one CA key. */
    public Optional<CrlInfo> info(CaKey key) {
        Held held = snapshot.byKey().get(key);
        return held == null ? Optional.empty() : Optional.of(held.info());
    }

    /** What is held for every issuer, for status output. */
    public List<CrlInfo> infos() {
        return snapshot.byKey().values().stream().map(Held::info).toList();
    }

    /** The heap bytes the entries of every CRL held take ({@link RevokedSerials#retainedBytes}). */
    long retainedBytes() {
        return snapshot.byKey().values().stream().mapToLong(h -> h.revoked().retainedBytes()).sum();
    }

    /** The earliest nextUpdate among the CRLs held, if any (the refresher fetches again then). */
    public Optional<Instant> earliestNextUpdate() {
        return snapshot.byKey().values().stream().map(Held::nextUpdate).min(Instant::compareTo);
    }

    /**
     * Checks every trusted issuer's CRL against the clock and reports changes: a loud WARN and
     * {@link CrlListener#freshnessChanged} once when an issuer's CRL turns stale (or when a trusted issuer has
     * no CRL at the first check), and INFO once when it is fresh again. Called by the refresher after each run.
     *
     * @return the issuers whose certificates cannot currently be checked (no CRL, or stale)
     */
    public Set<X500Principal> checkFreshness() {
        Set<X500Principal> unavailable = new LinkedHashSet<>();
        synchronized (updateLock) {
            Instant now = clock.instant();
            Map<CaKey, Held> byKey = snapshot.byKey();
            Set<CaKey> keys = new LinkedHashSet<>(trustedKeys());
            keys.addAll(byKey.keySet());
            for (CaKey key : keys) {
                X500Principal issuer = key.name();
                Held held = byKey.get(key);
                boolean fresh = held != null && !now.isAfter(held.staleAfter());
                if (!fresh) {
                    unavailable.add(issuer);
                }
                Boolean before = reportedFresh.put(key, fresh);
                if (before == null ? fresh : before == fresh) {
                    continue;
                }
                if (fresh) {
                    log.info("CRL of {} is fresh again (number {}, nextUpdate {}): revocation checks for its certificates resume",
                            key, held.number(), held.nextUpdate());
                } else if (held == null) {
                    log.warn("No CRL held for trusted issuer {}: revocation status of its certificates is unavailable "
                            + "(knocks with them are refused under fail-closed) until its CRL is fetched", key);
                } else {
                    log.warn("CRL of {} is STALE: nextUpdate {} plus grace {} has passed (CRL number {}, from {}); "
                            + "revocation status of its certificates is unavailable (knocks with them are refused under "
                            + "fail-closed) until a fresh CRL is accepted", key, held.nextUpdate(), staleGrace,
                            held.number(), held.origin());
                }
                for (CrlListener l : listeners) {
                    try {
                        l.freshnessChanged(issuer, fresh);
                    } catch (RuntimeException e) {
                        log.warn("CRL listener {} failed on freshnessChanged", l, e);
                    }
                }
            }
        }
        return Collections.unmodifiableSet(unavailable);
    }

    /** The trusted CA whose key verifies the CRL's signature. */
    private TrustedIssuer verifySignature(CrlParser.Parsed parsed) throws CrlRejection {
        List<TrustedIssuer> candidates = trusted.getOrDefault(parsed.issuer(), List.of()).stream()
                .filter(t -> mayIssueCrls(t.certificate())).toList();
        if (candidates.isEmpty()) {
            throw new CrlRejection(RejectionReason.UNKNOWN_ISSUER, trusted.containsKey(parsed.issuer())
                    ? "the trusted CA " + parsed.issuer().getName() + " may not sign CRLs (its keyUsage lacks cRLSign)"
                    : "issuer " + parsed.issuer().getName() + " is not a trusted CA");
        }
        String failure = "it does not verify with the key of the trusted CA " + parsed.issuer().getName();
        for (TrustedIssuer candidate : ordered(candidates, parsed.authorityKeyId())) {
            try {
                ContentVerifierProvider verifier = new JcaContentVerifierProviderBuilder().setProvider(BC)
                        .build(candidate.certificate().getPublicKey());
                if (parsed.holder().isSignatureValid(verifier)) {
                    return candidate;
                }
            } catch (OperatorCreationException | CertException | RuntimeException e) {
                failure = "it could not be verified with the key of the trusted CA " + parsed.issuer().getName() + ": "
                        + CrlParser.describe(e);
            }
        }
        throw new CrlRejection(RejectionReason.BAD_SIGNATURE, "bad CRL signature: " + failure);
    }

    /** The candidates, the one whose subject key identifier is the authority key identifier first: the signature decides. */
    private static List<TrustedIssuer> ordered(List<TrustedIssuer> candidates, byte[] authorityKeyId) {
        List<TrustedIssuer> ordered = new ArrayList<>(candidates);
        if (authorityKeyId != null) {
            ordered.sort((a, b) -> Boolean.compare(!Arrays.equals(a.subjectKeyId(), authorityKeyId),
                    !Arrays.equals(b.subjectKeyId(), authorityKeyId)));
        }
        return ordered;
    }

    private static byte[] authorityKeyId(X509Certificate certificate) {
        byte[] aki = certificate.getExtensionValue(Extension.authorityKeyIdentifier.getId());
        if (aki == null) {
            return null;
        }
        try {
            return AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(aki).getOctets()).getKeyIdentifierOctets();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static boolean mayIssueCrls(X509Certificate ca) {
        boolean[] keyUsage = ca.getKeyUsage();
        return keyUsage == null || (keyUsage.length > 6 && keyUsage[6]);
    }

    private CrlUpdate.Rejected rejected(String origin, CrlRejection r) {
        log.debug("CRL from {} rejected ({}): {}", LogText.of(origin), r.reason(), LogText.of(r.getMessage()));
        synchronized (updateLock) {
            for (CrlListener l : listeners) {
                try {
                    l.crlRejected(origin, r.reason(), r.getMessage());
                } catch (RuntimeException e) {
                    log.warn("CRL listener {} failed on crlRejected", l, e);
                }
            }
        }
        return r.toResult();
    }

    /** The CA's subject key identifier, or the RFC 5280 method-1 key id (SHA-1 of the key) when it has none. */
    private static byte[] subjectKeyId(X509Certificate ca) {
        byte[] ski = ca.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ski != null) {
            try {
                return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(ski).getOctets()).getKeyIdentifier();
            } catch (RuntimeException e) {
                LOG.debug("malformed subject key identifier in {}", ca.getSubjectX500Principal(), e);
            }
        }
        PublicKey key = ca.getPublicKey();
        try {
            byte[] bits = SubjectPublicKeyInfo.getInstance(key.getEncoded()).getPublicKeyData().getBytes();
            return MessageDigest.getInstance("SHA-1").digest(bits);
        } catch (NoSuchAlgorithmException | RuntimeException e) {
            return new byte[0];
        }
    }
}
