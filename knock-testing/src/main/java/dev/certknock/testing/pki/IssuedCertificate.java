package dev.certknock.testing.pki;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate with its key pair and its chain: {@code chain} starts with the certificate itself and
 * goes up to, but not including, the root.
 */
public record IssuedCertificate(X509Certificate certificate, KeyPair keyPair, List<X509Certificate> chain) {

    public IssuedCertificate {
        chain = List.copyOf(chain);
    }

    public PrivateKey privateKey() {
        return keyPair.getPrivate();
    }

    /** DER bytes of the certificate. */
    public byte[] encoded() {
        try {
            return certificate.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
