package dev.certknock.ca.pki;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509ExtensionUtils;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.asn1.ASN1OctetString;

/** The standard extensions every knock-ca certificate carries. */
public final class Extensions {

    private static final X509ExtensionUtils UTILS = new BcX509ExtensionUtils();

    private Extensions() {
    }

    /** Subject key identifier: SHA-1 of the public key bits (RFC 5280 method 1), as OpenSSL computes it. */
    public static SubjectKeyIdentifier subjectKeyId(PublicKey key) {
        return UTILS.createSubjectKeyIdentifier(SubjectPublicKeyInfo.getInstance(key.getEncoded()));
    }

    /** Authority key identifier: the issuer's subject key identifier (or its key's, when it has none). */
    public static AuthorityKeyIdentifier authorityKeyId(X509Certificate issuer) {
        byte[] ski = issuer.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ski != null) {
            return new AuthorityKeyIdentifier(SubjectKeyIdentifier.getInstance(
                    ASN1OctetString.getInstance(ski).getOctets()).getKeyIdentifier());
        }
        return new AuthorityKeyIdentifier(subjectKeyId(issuer.getPublicKey()).getKeyIdentifier());
    }

    /** Authority key identifier for a self-signed certificate. */
    public static AuthorityKeyIdentifier authorityKeyId(PublicKey selfKey) {
        return new AuthorityKeyIdentifier(subjectKeyId(selfKey).getKeyIdentifier());
    }

    /** One CRL distribution point with one URI. */
    public static CRLDistPoint crlDistributionPoint(String url) {
        GeneralNames names = new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, url));
        return new CRLDistPoint(new DistributionPoint[] {
            new DistributionPoint(new DistributionPointName(DistributionPointName.FULL_NAME, names), null, null)
        });
    }

}
