package dev.certknock.testing.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builder for a CRL of a test CA. Defaults: thisUpdate one minute ago, nextUpdate in one day, the
 * CA's next CRL number, no entries, signed by the CA.
 */
public final class CrlBuilder {

    private record Entry(BigInteger serial, Instant when, int reason) {
    }

    private final TestCa ca;
    private final Clock clock;
    private BigInteger number;
    private Instant thisUpdate;
    private Instant nextUpdate;
    private boolean noNextUpdate;
    private TestCa signer;
    private final List<Entry> entries = new ArrayList<>();

    CrlBuilder(TestCa ca, Clock clock, long number) {
        this.ca = ca;
        this.clock = clock;
        this.signer = ca;
        this.number = BigInteger.valueOf(number);
    }

    /** Revokes a certificate, reason keyCompromise, at the PKI clock's now. */
    public CrlBuilder revoke(X509Certificate certificate) {
        return revoke(certificate.getSerialNumber(), CRLReason.keyCompromise);
    }

    /** Revokes a serial with a reason ({@link CRLReason} constants). */
    public CrlBuilder revoke(BigInteger serial, int reason) {
        entries.add(new Entry(serial, clock.instant().minusSeconds(1), reason));
        return this;
    }

    public CrlBuilder number(long number) {
        this.number = BigInteger.valueOf(number);
        return this;
    }

    public CrlBuilder thisUpdate(Instant instant) {
        this.thisUpdate = instant;
        return this;
    }

    public CrlBuilder nextUpdate(Instant instant) {
        this.nextUpdate = instant;
        this.noNextUpdate = false;
        return this;
    }

    public CrlBuilder withoutNextUpdate() {
        this.noNextUpdate = true;
        return this;
    }

    /** Signs with another CA's key while naming this CA as issuer: a CRL whose signature is bad. */
    public CrlBuilder signedBy(TestCa other) {
        this.signer = other;
        return this;
    }

    public X509CRL build() {
        try {
            Instant now = clock.instant();
            Instant tu = thisUpdate != null ? thisUpdate : now.minus(Duration.ofMinutes(1));
            X509v2CRLBuilder b = new X509v2CRLBuilder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), Date.from(tu));
            if (!noNextUpdate) {
                b.setNextUpdate(Date.from(nextUpdate != null ? nextUpdate : now.plus(Duration.ofDays(1))));
            }
            for (Entry e : entries) {
                b.addCRLEntry(e.serial(), Date.from(e.when()), e.reason());
            }
            b.addExtension(Extension.cRLNumber, false, new ASN1Integer(number));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.certificate().getPublicKey()));
            String alg = KeyType.of(signer.keyPair()).signatureAlgorithm();
            return new JcaX509CRLConverter().getCRL(
                    b.build(new JcaContentSignerBuilder(alg).setProvider(CertificateBuilder.BC).build(signer.privateKey())));
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException
                | org.bouncycastle.cert.CertIOException e) {
            throw new IllegalStateException("test PKI could not build a CRL: " + e.getMessage(), e);
        }
    }
}
