package dev.certknock.server.crl;

import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.CRLReason;
import java.time.Instant;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.Optional;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CertificateList;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;
import org.bouncycastle.asn1.x509.TBSCertList;
import org.bouncycastle.cert.X509CRLHolder;

/**
 * Internal: strict decoding of a CRL and the content checks that do not depend on what the store holds.
 * Structure is checked first ({@link #parse}); the content ({@link #content}) only after the signature
 * has been verified, so that reasons about content are only ever reported for authentic CRLs.
 */
final class CrlParser {

    /** Non-critical extensions that need no processing; anything else critical is refused. */
    private static final Set<ASN1ObjectIdentifier> KNOWN = Set.of(Extension.cRLNumber, Extension.authorityKeyIdentifier,
            Extension.issuerAlternativeName, Extension.issuingDistributionPoint, Extension.freshestCRL,
            Extension.authorityInfoAccess, Extension.expiredCertsOnCRL);

    private CrlParser() {
    }

    /** A structurally valid CRL whose signature has not been checked yet. */
    record Parsed(byte[] der, X509CRLHolder holder, X500Principal issuer, byte[] authorityKeyId) {
    }

    /** The checked content of a CRL whose signature verified. */
    record Content(BigInteger number, Instant thisUpdate, Instant nextUpdate,
            RevokedSerials revoked) {
    }

    static Parsed parse(byte[] der) throws CrlRejection {
        if (der.length == 0) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "empty CRL");
        }
        CertificateList list;
        try {
            // fromByteArray refuses trailing data and lengths beyond the input
            list = CertificateList.getInstance(ASN1Primitive.fromByteArray(der));
            if (list == null || !Arrays.equals(list.getEncoded(ASN1Encoding.DER), der)) {
                throw new CrlRejection(RejectionReason.UNPARSEABLE, "not a DER-encoded CRL");
            }
        } catch (IOException | RuntimeException e) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "not a CRL: " + describe(e));
        }
        X509CRLHolder holder;
        try {
            if (!list.getSignatureAlgorithm().equals(list.getTBSCertList().getSignature())) {
                throw new CrlRejection(RejectionReason.UNPARSEABLE, "signature algorithm differs from the one in the signed part");
            }
            // the holder reads the issuingDistributionPoint at construction and throws for a malformed one
            holder = new X509CRLHolder(list);
        } catch (RuntimeException e) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "malformed CRL extension: " + describe(e));
        }
        X500Principal issuer;
        byte[] aki = null;
        try {
            issuer = new X500Principal(holder.getIssuer().getEncoded(ASN1Encoding.DER));
            Extension akiExtension = holder.getExtension(Extension.authorityKeyIdentifier);
            if (akiExtension != null) {
                aki = AuthorityKeyIdentifier.getInstance(akiExtension.getParsedValue()).getKeyIdentifierOctets();
            }
        } catch (IOException | RuntimeException e) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "malformed issuer or authority key identifier: " + describe(e));
        }
        return new Parsed(der, holder, issuer, aki);
    }

    static Content content(Parsed parsed) throws CrlRejection {
        X509CRLHolder holder = parsed.holder();
        Extensions extensions = holder.getExtensions();
        BigInteger number = null;
        try {
            if (extensions != null) {
                for (ASN1ObjectIdentifier oid : extensions.getExtensionOIDs()) {
                    if (oid.equals(Extension.deltaCRLIndicator)) {
                        throw new CrlRejection(RejectionReason.UNSUPPORTED, "delta CRLs are not supported; publish complete CRLs");
                    }
                    if (extensions.getExtension(oid).isCritical() && !KNOWN.contains(oid)) {
                        throw new CrlRejection(RejectionReason.UNSUPPORTED, "unknown critical extension " + oid);
                    }
                }
                Extension idpExtension = extensions.getExtension(Extension.issuingDistributionPoint);
                if (idpExtension != null) {
                    refusePartition(IssuingDistributionPoint.getInstance(idpExtension.getParsedValue()));
                }
                Extension numberExtension = extensions.getExtension(Extension.cRLNumber);
                if (numberExtension != null) {
                    number = ASN1Integer.getInstance(numberExtension.getParsedValue()).getValue();
                }
            }
        } catch (RuntimeException e) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "malformed CRL extension: " + describe(e));
        }
        if (number == null) {
            throw new CrlRejection(RejectionReason.MISSING_CRL_NUMBER, "the CRL has no CRL number, so rollback could not be detected");
        }
        if (number.signum() < 0) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "negative CRL number " + number);
        }
        Instant thisUpdate;
        Instant nextUpdate;
        try {
            thisUpdate = holder.getThisUpdate().toInstant();
            if (holder.getNextUpdate() == null) {
                throw new CrlRejection(RejectionReason.MISSING_NEXT_UPDATE,
                        "the CRL has no nextUpdate, so its freshness could not be judged (RFC 5280 requires nextUpdate)");
            }
            nextUpdate = holder.getNextUpdate().toInstant();
        } catch (RuntimeException e) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "malformed thisUpdate or nextUpdate: " + describe(e));
        }
        if (nextUpdate.isBefore(thisUpdate)) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "nextUpdate " + nextUpdate + " is before thisUpdate " + thisUpdate);
        }
        return new Content(number, thisUpdate, nextUpdate, entries(holder));
    }

    /**
     * Refuses a CRL whose issuingDistributionPoint makes it cover less than every certificate of its issuer
     * (RFC 5280 5.2.5): a distribution point name (a partition by distribution point), onlySomeReasons, one of the
     * onlyContains flags, or indirectCRL. The store keeps one CRL per CA key and treats it as complete, so a
     * partial CRL would report the certificates it does not cover as good. onlyContainsUserCerts is refused too:
     * every certificate of a path (intermediates included) is checked against its issuer's CRL, and a CA that
     * publishes a user-only CRL publishes its CA revocations elsewhere. An empty issuingDistributionPoint covers
     * everything and is accepted.
     */
    private static void refusePartition(IssuingDistributionPoint idp) throws CrlRejection {
        String partial = null;
        if (idp.isIndirectCRL()) {
            partial = "it is an indirect CRL (indirectCRL)";
        } else if (idp.getDistributionPoint() != null) {
            partial = "it covers only the certificates of one distribution point (issuingDistributionPoint names "
                    + "a distributionPoint)";
        } else if (idp.getOnlySomeReasons() != null) {
            partial = "it covers only some revocation reasons (onlySomeReasons)";
        } else if (idp.onlyContainsUserCerts()) {
            partial = "it covers only end-entity certificates (onlyContainsUserCerts), not the CA certificates "
                    + "of a path";
        } else if (idp.onlyContainsCACerts()) {
            partial = "it covers only CA certificates (onlyContainsCACerts)";
        } else if (idp.onlyContainsAttributeCerts()) {
            partial = "it covers only attribute certificates (onlyContainsAttributeCerts)";
        }
        if (partial != null) {
            throw new CrlRejection(RejectionReason.UNSUPPORTED, "partial CRL refused: " + partial + "; certknock needs "
                    + "a complete CRL of the CA: publish one without these issuingDistributionPoint fields and "
                    + "list its URL in crl.sources");
        }
    }

    /** The entries, straight from the ASN.1 (no per-entry holder objects), into the compact form kept. */
    private static RevokedSerials entries(X509CRLHolder holder) throws CrlRejection {
        RevokedSerials.Builder revoked = new RevokedSerials.Builder();
        try {
            Enumeration<?> entries = holder.toASN1Structure().getTBSCertList().getRevokedCertificateEnumeration();
            while (entries.hasMoreElements()) {
                TBSCertList.CRLEntry entry = (TBSCertList.CRLEntry) entries.nextElement();
                Optional<CRLReason> reason = Optional.empty();
                Extensions ext = entry.getExtensions();
                if (ext != null) {
                    for (ASN1ObjectIdentifier oid : ext.getCriticalExtensionOIDs()) {
                        throw new CrlRejection(RejectionReason.UNSUPPORTED, "critical CRL entry extension " + oid
                                + (oid.equals(Extension.certificateIssuer) ? " (indirect CRL)" : ""));
                    }
                    Extension reasonCode = ext.getExtension(Extension.reasonCode);
                    if (reasonCode != null) {
                        int code = ASN1Enumerated.getInstance(reasonCode.getParsedValue()).intValueExact();
                        if (code < 0 || code >= CRLReason.values().length) {
                            throw new CrlRejection(RejectionReason.UNPARSEABLE, "unknown CRL reason code " + code);
                        }
                        reason = Optional.of(CRLReason.values()[code]);
                    }
                }
                revoked.add(entry.getUserCertificate().getValue(), entry.getRevocationDate().getDate().toInstant(), reason);
            }
        } catch (RuntimeException e) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "malformed CRL entry: " + describe(e));
        }
        return revoked.build();
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
