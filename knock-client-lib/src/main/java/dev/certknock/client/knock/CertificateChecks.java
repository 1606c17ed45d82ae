package dev.certknock.client.knock;

import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.GrantsFormatException;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertStore;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The certificate checks a client makes before it sends anything. Stateless. */
final class CertificateChecks {

    private CertificateChecks() {
    }

    /** The client certificate's grants; it must carry the extension and EKU id-kp-certknockClient. */
    static CertknockGrants clientGrants(X509Certificate client) throws KnockException {
        if (!hasExtendedKeyUsage(client, CertknockOids.KP_CLIENT.getId())) {
            throw new KnockException(KnockException.Reason.CLIENT_CERTIFICATE_NOT_FOR_KNOCKS, "the client certificate "
                    + name(client) + " lacks extended key usage id-kp-certknockClient (" + CertknockOids.KP_CLIENT
                    + "): it is not a certknock client certificate");
        }
        try {
            return GrantsExtension.fromCertificate(client).orElseThrow(() -> new KnockException(
                    KnockException.Reason.CLIENT_CERTIFICATE_WITHOUT_GRANTS, "the client certificate " + name(client)
                            + " carries no certknock grants extension, so it may open no ports"));
        } catch (GrantsFormatException e) {
            throw new KnockException(KnockException.Reason.CLIENT_CERTIFICATE_WITHOUT_GRANTS,
                    "the client certificate's grants extension is malformed: " + e.getMessage(), e);
        }
    }

    /** The server certificate must carry EKU id-kp-certknockServer. */
    static void requireServerUsage(X509Certificate server) throws KnockException {
        if (!hasExtendedKeyUsage(server, CertknockOids.KP_SERVER.getId())) {
            throw new KnockException(KnockException.Reason.SERVER_CERTIFICATE_NOT_FOR_KNOCKS, "the server certificate "
                    + name(server) + " lacks extended key usage id-kp-certknockServer (" + CertknockOids.KP_SERVER
                    + "): it is not a certknock server certificate");
        }
    }

    /** Every certificate the knock carries must be within its validity at {@code now}. */
    static void requireClientChainValid(List<X509Certificate> chain, Instant now) throws KnockException {
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            String which = i == 0 ? "the client certificate " : "the intermediate CA certificate ";
            String problem = validityProblem(c, now);
            if (problem != null) {
                throw new KnockException(KnockException.Reason.CLIENT_CERTIFICATE_NOT_VALID_NOW,
                        which + name(c) + " " + problem + ": ask your CA for a new bundle");
            }
        }
    }

    /**
     * The server certificate must be valid now and chain to one of the client's trust anchors (PKIX, JDK
     * provider, revocation not checked: the client has no CRL, and the server's key only seals the knock).
     */
    static void requireServerTrusted(List<X509Certificate> serverCertificates, ClientIdentity identity, Instant now)
            throws KnockException {
        X509Certificate server = serverCertificates.get(0);
        String problem = validityProblem(server, now);
        if (problem != null) {
            throw new KnockException(KnockException.Reason.SERVER_CERTIFICATE_NOT_VALID_NOW,
                    "the server certificate " + name(server) + " " + problem);
        }
        if (identity.trustAnchors().isEmpty()) {
            throw new KnockException(KnockException.Reason.SERVER_CERTIFICATE_UNTRUSTED, "the bundle holds no CA "
                    + "certificate to check the server certificate against: give the CA certificate separately");
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate a : identity.trustAnchors()) {
            anchors.add(new TrustAnchor(a, null));
        }
        List<X509Certificate> pool = new ArrayList<>(serverCertificates);
        pool.addAll(identity.intermediates());
        X509CertSelector selector = new X509CertSelector();
        selector.setCertificate(server);
        try {
            PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, selector);
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool)));
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathBuilder.getInstance("PKIX").build(params);
        } catch (CertPathBuilderException e) {
            throw new KnockException(KnockException.Reason.SERVER_CERTIFICATE_UNTRUSTED, "the server certificate "
                    + name(server) + " does not chain to your CA (" + anchorNames(identity) + "): "
                    + e.getMessage() + ". Check that you were given the right server certificate.", e);
        } catch (InvalidAlgorithmParameterException e) {
            throw new KnockException(KnockException.Reason.SERVER_CERTIFICATE_UNTRUSTED,
                    "the server certificate cannot be checked: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's PKIX implementation is missing", e);
        }
    }

    /** DNS names in the certificate's subjectAltName. */
    static List<String> dnsNames(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            var alt = certificate.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (entry.size() >= 2 && Integer.valueOf(2).equals(entry.get(0)) && entry.get(1) instanceof String s) {
                        names.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // No usable names: the caller falls back to the target host name.
        }
        return names;
    }

    static String name(X509Certificate c) {
        return "'" + c.getSubjectX500Principal().getName() + "'";
    }

    private static String anchorNames(ClientIdentity identity) {
        List<String> names = new ArrayList<>();
        for (X509Certificate a : identity.trustAnchors()) {
            names.add(a.getSubjectX500Principal().getName());
        }
        return String.join("; ", names);
    }

    private static String validityProblem(X509Certificate c, Instant now) {
        try {
            c.checkValidity(Date.from(now));
            return null;
        } catch (CertificateExpiredException e) {
            return "expired at " + c.getNotAfter().toInstant();
        } catch (CertificateNotYetValidException e) {
            return "is not valid before " + c.getNotBefore().toInstant();
        }
    }

    private static boolean hasExtendedKeyUsage(X509Certificate c, String oid) {
        try {
            List<String> ekus = c.getExtendedKeyUsage();
            return ekus != null && ekus.contains(oid);
        } catch (CertificateParsingException e) {
            return false;
        }
    }
}
