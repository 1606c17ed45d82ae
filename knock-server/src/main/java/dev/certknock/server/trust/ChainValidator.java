package dev.certknock.server.trust;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.GrantsExtensionChecker;
import dev.certknock.protocol.grant.GrantsFormatException;
import dev.certknock.server.pipeline.DropReason;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateParsingException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Validates a client's certificate chain with Bouncy Castle's PKIX (path building from the presented
 * certificates and the server's intermediates to a trust anchor, validity at the given time, CA
 * constraints) plus certknock's own rules: the leaf is no CA (basicConstraints cA=true never is a
 * client), its keyUsage, when present, allows digitalSignature, it has EKU id-kp-certknockClient and a
 * well-formed grants extension, and the path has at most {@value #MAX_INTERMEDIATES} intermediates. Revocation is a separate stage. Valid results are cached by leaf fingerprint, bounded,
 * and dropped when the CRL generation changes or the time leaves the path's validity.
 */
public final class ChainValidator {

    private static final Provider BC = new BouncyCastleProvider();
    /**
     * The most intermediate CA certificates between the client's certificate and its trust anchor.
     * Enforced on the built path: Bouncy Castle's builder, given this as {@code maxPathLength}, accepts
     * one more.
     */
    static final int MAX_INTERMEDIATES = 4;

    private record Cached(ChainResult.Valid result, long generation) {
    }

    private final TrustStore trust;
    private final LongSupplier generation;
    private final Map<ByteBuffer, Cached> cache;

    /**
     * @param generation changes whenever trust data (the CRLs) changes; cached results of another
     *     generation are not used
     * @param cacheSize the most validated chains remembered
     */
    public ChainValidator(TrustStore trust, LongSupplier generation, int cacheSize) {
        this.trust = trust;
        this.generation = generation;
        this.cache = new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Cached> eldest) {
                return size() > cacheSize;
            }
        };
    }

    public ChainResult validate(List<X509Certificate> presented, byte[] leafFingerprint, Instant now) {
        ByteBuffer key = ByteBuffer.wrap(leafFingerprint.clone());
        long gen = generation.getAsLong();
        synchronized (cache) {
            Cached hit = cache.get(key);
            if (hit != null && hit.generation() == gen && hit.result().coversInstant(now)) {
                return hit.result();
            }
        }
        ChainResult result = validateUncached(presented, now);
        if (result instanceof ChainResult.Valid valid) {
            synchronized (cache) {
                cache.put(key, new Cached(valid, gen));
            }
        }
        return result;
    }

    /** Drops every cached result (trust anchors changed). */
    public void invalidate() {
        synchronized (cache) {
            cache.clear();
        }
    }

    ChainResult validateUncached(List<X509Certificate> presented, Instant now) {
        X509Certificate leaf = presented.get(0);
        Date at = Date.from(now);
        for (X509Certificate c : presented) {
            if (at.after(c.getNotAfter())) {
                return new ChainResult.Invalid(DropReason.CERTIFICATE_EXPIRED, "certificate expired");
            }
            if (at.before(c.getNotBefore())) {
                return new ChainResult.Invalid(DropReason.CERTIFICATE_NOT_YET_VALID, "certificate not yet valid");
            }
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku == null || !eku.contains(CertknockOids.KP_CLIENT.getId())) {
                return new ChainResult.Invalid(DropReason.MISSING_CLIENT_EKU, "no id-kp-certknockClient EKU");
            }
        } catch (CertificateParsingException e) {
            return new ChainResult.Invalid(DropReason.MISSING_CLIENT_EKU, "EKU extension unreadable");
        }
        if (leaf.getBasicConstraints() >= 0) {
            return new ChainResult.Invalid(DropReason.UNTRUSTED_CHAIN, "leaf is a CA certificate (basicConstraints cA=true)");
        }
        boolean[] keyUsage = leaf.getKeyUsage();
        if (keyUsage != null && (keyUsage.length == 0 || !keyUsage[0])) {
            return new ChainResult.Invalid(DropReason.UNTRUSTED_CHAIN, "leaf keyUsage without digitalSignature");
        }
        CertknockGrants grants;
        try {
            var g = GrantsExtension.fromCertificate(leaf);
            if (g.isEmpty()) {
                return new ChainResult.Invalid(DropReason.MISSING_GRANTS, "no certknock grants extension");
            }
            grants = g.get();
        } catch (GrantsFormatException e) {
            return new ChainResult.Invalid(DropReason.MALFORMED_GRANTS, "grants extension malformed");
        }
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
            return new ChainResult.Valid(path, grants, notBefore, notAfter);
        } catch (GeneralSecurityException | RuntimeException e) {
            return new ChainResult.Invalid(DropReason.UNTRUSTED_CHAIN, "no valid path to a trust anchor");
        }
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Instant earlier(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
