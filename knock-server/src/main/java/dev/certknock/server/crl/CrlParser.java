package dev.certknock.server.crl;

import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.CRLReason;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
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
import org.bouncycastle.cert.X509CRLEntryHolder;
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
    record Content(BigInteger number, Instant thisUpdate, Instant nextUpdate, boolean userCertsOnly,
            Map<BigInteger, RevocationStatus.Revoked> revoked) {
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
        boolean userCertsOnly = false;
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
                    IssuingDistributionPoint idp = IssuingDistributionPoint.getInstance(idpExtension.getParsedValue());
                    if (idp.isIndirectCRL()) {
                        throw new CrlRejection(RejectionReason.UNSUPPORTED, "indirect CRLs are not supported");
                    }
                    if (idp.getOnlySomeReasons() != null) {
                        throw new CrlRejection(RejectionReason.UNSUPPORTED, "CRLs partitioned by reason are not supported");
                    }
                    if (idp.onlyContainsCACerts() || idp.onlyContainsAttributeCerts()) {
                        throw new CrlRejection(RejectionReason.UNSUPPORTED,
                                "CRLs limited to CA or attribute certificates are not supported");
                    }
                    userCertsOnly = idp.onlyContainsUserCerts();
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
        return new Content(number, thisUpdate, nextUpdate, userCertsOnly, entries(holder));
    }

    private static Map<BigInteger, RevocationStatus.Revoked> entries(X509CRLHolder holder) throws CrlRejection {
        Map<BigInteger, RevocationStatus.Revoked> revoked;
        try {
            @SuppressWarnings("unchecked")
            Collection<X509CRLEntryHolder> entries = holder.getRevokedCertificates();
            revoked = new HashMap<>(Math.max(16, entries.size() * 4 / 3 + 1));
            for (X509CRLEntryHolder entry : entries) {
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
                revoked.putIfAbsent(entry.getSerialNumber(),
                        new RevocationStatus.Revoked(entry.getRevocationDate().toInstant(), reason));
            }
        } catch (RuntimeException e) {
            throw new CrlRejection(RejectionReason.UNPARSEABLE, "malformed CRL entry: " + describe(e));
        }
        return Collections.unmodifiableMap(revoked);
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
