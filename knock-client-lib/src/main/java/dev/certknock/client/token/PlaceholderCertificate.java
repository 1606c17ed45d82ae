package dev.certknock.client.token;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The self-signed placeholder certificate stored with a key made on a token until the CA's certificate replaces it.
 * The only user of {@code bcpkix} in this library, kept in a class of its own so that {@link Pkcs11Token} loads and
 * knocks without it (bcpkix is an optional dependency: the CA tools bring it).
 */
final class PlaceholderCertificate {

    private PlaceholderCertificate() {
    }

    static X509Certificate make(String commonName, String unit, KeyPair keys, Provider signer)
            throws GeneralSecurityException {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName)
                .addRDN(BCStyle.OU, unit).build();
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(subject, BigInteger.ONE, Date.from(now), Date.from(now),
                subject, keys.getPublic());
        try {
            var contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").setProvider(signer)
                    .build(keys.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }
}
