package dev.certknock.server.crl;

import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.io.OutputStream;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.TBSCertList;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.x509.V2TBSCertListGenerator;
import org.bouncycastle.operator.ContentSigner;
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
    private TestCa signer;

    private HandMadeCrl(TestCa ca, Instant now) {
        this.ca = ca;
        this.signer = ca;
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

    /** Signs with another CA's key (the issuer name stays this CA's). */
    HandMadeCrl signedBy(TestCa key) {
        this.signer = key;
        return this;
    }

    /** Lists a serial as revoked (keyCompromise, at thisUpdate). */
    HandMadeCrl revoke(BigInteger serial) {
        entries.add(new Object[] {serial, null});
        return this;
    }

    /**
     * Built from the ASN.1 up (not with {@code X509v2CRLBuilder}, whose result is an {@code X509CRLHolder} that
     * refuses a malformed issuingDistributionPoint): the bytes are exactly what the extensions say.
     */
    byte[] der() {
        try {
            V2TBSCertListGenerator tbs = new V2TBSCertListGenerator();
            tbs.setIssuer(X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()));
            tbs.setThisUpdate(new Time(Date.from(thisUpdate)));
            if (nextUpdate != null) {
                tbs.setNextUpdate(new Time(Date.from(nextUpdate)));
            }
            List<Extension> all = new ArrayList<>();
            if (number != null) {
                all.add(new Extension(Extension.cRLNumber, false, new ASN1Integer(number).getEncoded()));
            }
            all.addAll(extensions);
            if (!all.isEmpty()) {
                tbs.setExtensions(new Extensions(all.toArray(Extension[]::new)));
            }
            for (Object[] entry : entries) {
                ExtensionsGenerator g = new ExtensionsGenerator();
                g.addExtension(Extension.reasonCode, false, CRLReason.lookup(CRLReason.keyCompromise));
                if (entry[1] != null) {
                    g.addExtension((ASN1ObjectIdentifier) entry[1], true, new ASN1Integer(1));
                }
                tbs.addCRLEntry(new ASN1Integer((BigInteger) entry[0]), new Time(Date.from(thisUpdate)), g.generate());
            }
            String alg = KeyType.of(signer.keyPair()).signatureAlgorithm();
            ContentSigner contentSigner = new JcaContentSignerBuilder(alg).build(signer.privateKey());
            tbs.setSignature(contentSigner.getAlgorithmIdentifier());
            TBSCertList list = tbs.generateTBSCertList();
            try (OutputStream out = contentSigner.getOutputStream()) {
                out.write(list.getEncoded(ASN1Encoding.DER));
            }
            return new DERSequence(new ASN1Encodable[] {list, contentSigner.getAlgorithmIdentifier(),
                    new DERBitString(contentSigner.getSignature())}).getEncoded(ASN1Encoding.DER);
        } catch (Exception e) {
            throw new IllegalStateException("could not build a hand-made CRL", e);
        }
    }
}
