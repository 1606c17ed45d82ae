package dev.certknock.server.crl;

import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * CRLs the test PKI's builder cannot make (no CRL number, extra or critical extensions, entry extensions),
 * signed with a test CA's real key.
 */
final class HandMadeCrl {

    private final TestCa ca;
    private Instant thisUpdate;
    private Instant nextUpdate;
    private BigInteger number = BigInteger.ONE;
    private final List<Extension> extensions = new ArrayList<>();
    private final List<Object[]> entries = new ArrayList<>();

    private HandMadeCrl(TestCa ca, Instant now) {
        this.ca = ca;
        this.thisUpdate = now.minusSeconds(60);
        this.nextUpdate = now.plusSeconds(86_400);
    }

    static HandMadeCrl of(TestCa ca, Instant now) {
        return new HandMadeCrl(ca, now);
    }

    HandMadeCrl number(BigInteger n) {
        this.number = n;
        return this;
    }

    HandMadeCrl nextUpdate(Instant i) {
        this.nextUpdate = i;
        return this;
    }

    HandMadeCrl extension(ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
        try {
            extensions.add(new Extension(oid, critical, value.toASN1Primitive().getEncoded()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return this;
    }

    /** An entry with a critical extension of the given OID (value: an INTEGER). */
    HandMadeCrl entryWithCriticalExtension(BigInteger serial, ASN1ObjectIdentifier oid) {
        entries.add(new Object[] {serial, oid});
        return this;
    }

    byte[] der() {
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), Date.from(thisUpdate));
            if (nextUpdate != null) {
                b.setNextUpdate(Date.from(nextUpdate));
            }
            if (number != null) {
                b.addExtension(Extension.cRLNumber, false, new ASN1Integer(number));
            }
            for (Extension e : extensions) {
                b.addExtension(e);
            }
            for (Object[] entry : entries) {
                ExtensionsGenerator g = new ExtensionsGenerator();
                g.addExtension(Extension.reasonCode, false, CRLReason.lookup(CRLReason.keyCompromise));
                g.addExtension((ASN1ObjectIdentifier) entry[1], true, new ASN1Integer(1));
                Extensions ext = g.generate();
                b.addCRLEntry((BigInteger) entry[0], Date.from(thisUpdate), ext);
            }
            String alg = KeyType.of(ca.keyPair()).signatureAlgorithm();
            return b.build(new JcaContentSignerBuilder(alg).build(ca.privateKey())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException("could not build a hand-made CRL", e);
        }
    }
}
