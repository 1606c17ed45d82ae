package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.ca.pki.Extensions;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.store.CaDatabase;
import dev.certknock.ca.store.CaSettings;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.KeyFiles;
import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * A CA opened for signing: its settings, certificate, chain and decrypted private key. Every certificate it
 * signs is X.509 v3 with subject and authority key identifiers and, unless it is self-signed, the CA's CRL
 * distribution point.
 */
public final class SigningCa {

    /** Certificates start this long before they are made, so that a client whose clock lags accepts them. */
    public static final java.time.Duration BACKDATE = java.time.Duration.ofMinutes(5);

    private final CaStore store;
    private final CaSettings settings;
    private final X509Certificate certificate;
    private final List<X509Certificate> chain;
    private final PrivateKey key;

    private SigningCa(CaStore store, CaSettings settings, X509Certificate certificate, List<X509Certificate> chain,
            PrivateKey key) {
        this.store = store;
        this.settings = settings;
        this.certificate = certificate;
        this.chain = chain;
        this.key = key;
    }

    /** Opens the CA: the password decrypts its key (a wrong one is BAD_CREDENTIALS). */
    public static SigningCa open(CaStore store, char[] password) {
        CaSettings settings = store.settings();
        X509Certificate cert = PemFiles.certificate(store.directory().certificateFile());
        List<X509Certificate> chain = PemFiles.certificates(store.directory().chainFile());
        PrivateKey key = KeyFiles.readEncrypted(store.directory().keyFile(), password);
        return new SigningCa(store, settings, cert, List.copyOf(chain), key);
    }

    public CaStore store() {
        return store;
    }

    public CaSettings settings() {
        return settings;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** This CA's certificate followed by its issuers up to the root. */
    public List<X509Certificate> chain() {
        return chain;
    }

    public PrivateKey key() {
        return key;
    }

    public X500Name subject() {
        return X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    }

    /** A fresh serial number: 128 random bits, positive, not zero, never one already in the database. */
    public static BigInteger newSerial(CaDatabase db, SecureRandom random) {
        while (true) {
            byte[] bytes = new byte[16];
            random.nextBytes(bytes);
            BigInteger serial = new BigInteger(1, bytes);
            if (serial.signum() > 0 && !db.containsSerial(Pki.serialHex(serial))) {
                return serial;
            }
        }
    }

    /**
     * Refuses a validity that would end after this CA's own: a certificate cannot outlive its issuer. The message
     * names both ends, the longest lifetime still possible, and what else can be done (knock-ca has no command that
     * extends a CA certificate: a new CA or intermediate is made with init).
     */
    public void requireWithinValidity(Instant notAfter, String what, Instant now) {
        Instant caEnd = certificate.getNotAfter().toInstant();
        if (!now.isBefore(caEnd)) {
            throw CaException.failure("the CA certificate expired at " + caEnd + ": it can no longer issue certificates; "
                    + "make a new CA with 'knock-ca init' (for an intermediate: 'knock-ca init --parent ROOT-DIR') and "
                    + "give servers its certificate as a trust anchor");
        }
        if (notAfter.isAfter(caEnd)) {
            java.time.Duration left = java.time.Duration.between(now, caEnd).truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
            String shorter = left.compareTo(Lifetime.MIN) >= 0
                    ? "give --valid-for " + Lifetime.format(left) + " or less (the time the CA has left)"
                    : "the CA has less than " + Lifetime.format(Lifetime.MIN) + " left, too little for any certificate";
            throw CaException.badInput("the " + what + " would be valid until " + notAfter + ", after its CA's certificate ends ("
                    + caEnd + "): " + shorter + "; for longer lifetimes make a new CA with 'knock-ca init' (for an "
                    + "intermediate: a new one with 'knock-ca init --parent ROOT-DIR'), add its certificate to the servers' "
                    + "trust anchors and issue from it");
        }
    }

    /** Signs a certificate for {@code subject}'s {@code publicKey} with the given extra extensions. */
    public X509Certificate sign(BigInteger serial, X500Name subject, PublicKey publicKey, Instant notBefore, Instant notAfter,
            List<Extension> extensions) {
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject(), serial, Date.from(notBefore),
                Date.from(notAfter), subject, publicKey);
        try {
            b.addExtension(Extension.subjectKeyIdentifier, false, Extensions.subjectKeyId(publicKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, Extensions.authorityKeyId(certificate));
            b.addExtension(Extension.cRLDistributionPoints, false, Extensions.crlDistributionPoint(settings.crlUrl()));
            for (Extension e : extensions) {
                b.addExtension(e);
            }
        } catch (CertIOException e) {
            throw new IllegalStateException(e);
        }
        return Pki.certificate(b.build(Pki.signer(key)));
    }

    static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

}
