package dev.certknock.testing.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Fluent builder for a certificate of the test PKI. Defaults make a valid end-entity certificate:
 * P-256 key, valid from an hour ago for thirty days, digitalSignature key usage, no EKU. Every
 * default can be overridden, including into something deliberately invalid.
 */
public class CertificateBuilder {

    static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String subject;
    private final TestCa issuer;
    private final Clock clock;
    private KeyType keyType = KeyType.P256;
    private KeyPair keyPair;
    private Instant notBefore;
    private Instant notAfter;
    private Duration validFor = Duration.ofDays(30);
    private BigInteger serial;
    private Boolean ca;
    private Integer pathLength;
    private Integer keyUsage = KeyUsage.digitalSignature;
    private final List<ASN1ObjectIdentifier> ekus = new ArrayList<>();
    private final List<Extension> extensions = new ArrayList<>();
    private final List<String> dnsNames = new ArrayList<>();
    private final List<String> ipAddresses = new ArrayList<>();
    private String crlDistributionPoint;
    private TestCa signer;

    CertificateBuilder(String subject, TestCa issuer, Clock clock) {
        this.subject = Objects.requireNonNull(subject);
        this.issuer = issuer;
        this.clock = clock;
        this.signer = issuer;
    }

    public CertificateBuilder keyType(KeyType type) {
        this.keyType = type;
        return this;
    }

    /** Certify this existing key pair instead of generating one. */
    public CertificateBuilder keyPair(KeyPair pair) {
        this.keyPair = pair;
        this.keyType = KeyType.of(pair);
        return this;
    }

    public CertificateBuilder validity(Instant notBefore, Instant notAfter) {
        this.notBefore = notBefore;
        this.notAfter = notAfter;
        return this;
    }

    /** Valid from an hour before now (by the PKI's clock) for this long. */
    public CertificateBuilder validFor(Duration duration) {
        this.validFor = duration;
        this.notBefore = null;
        this.notAfter = null;
        return this;
    }

    /** Expired: valid from 30 days ago until one day ago. */
    public CertificateBuilder expired() {
        Instant now = clock.instant();
        return validity(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));
    }

    /** Not yet valid: valid from tomorrow for 30 days. */
    public CertificateBuilder notYetValid() {
        Instant now = clock.instant();
        return validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(31)));
    }

    public CertificateBuilder serial(BigInteger serial) {
        this.serial = serial;
        return this;
    }

    /** basicConstraints: {@code cA} as given (critical), with an optional path length. */
    public CertificateBuilder basicConstraints(boolean ca, Integer pathLength) {
        this.ca = ca;
        this.pathLength = pathLength;
        return this;
    }

    /** Leaves out the basicConstraints extension altogether. */
    public CertificateBuilder basicConstraintsAbsent() {
        this.ca = null;
        this.pathLength = null;
        return this;
    }

    /** The KeyUsage bits (BC {@link KeyUsage} constants), or null for no KeyUsage extension. */
    public CertificateBuilder keyUsage(Integer bits) {
        this.keyUsage = bits;
        return this;
    }

    /** Adds an extended key usage by OID; call again for more. */
    public CertificateBuilder extendedKeyUsage(String oid) {
        ekus.add(new ASN1ObjectIdentifier(oid));
        return this;
    }

    /** Adds an arbitrary extension with the given DER-encoded value. */
    public CertificateBuilder extension(String oid, boolean critical, byte[] derValue) {
        extensions.add(new Extension(new ASN1ObjectIdentifier(oid), critical, derValue));
        return this;
    }

    /** Adds a DNS name to the subjectAltName extension. */
    public CertificateBuilder dnsName(String name) {
        dnsNames.add(name);
        return this;
    }

    /** Adds an IP address (a literal such as 127.0.0.1 or ::1) to the subjectAltName extension. */
    public CertificateBuilder ipAddress(String literal) {
        ipAddresses.add(literal);
        return this;
    }

    public CertificateBuilder crlDistributionPoint(String url) {
        this.crlDistributionPoint = url;
        return this;
    }

    /**
     * Sign with another CA's key while still naming the builder's issuer: makes a certificate whose
     * signature does not verify against its named issuer.
     */
    public CertificateBuilder signedBy(TestCa other) {
        this.signer = other;
        return this;
    }

    public IssuedCertificate build() {
        try {
            KeyPair pair = keyPair != null ? keyPair : keyType.generate();
            Instant from = notBefore != null ? notBefore : clock.instant().minus(Duration.ofHours(1));
            Instant to = notAfter != null ? notAfter : from.plus(validFor);
            X500Name subjectName = new X500Name(subject);
            X500Name issuerName = issuer == null ? subjectName
                    : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
            BigInteger sn = serial != null ? serial : new BigInteger(127, RANDOM).add(BigInteger.ONE);
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, sn,
                    Date.from(from), Date.from(to), subjectName, pair.getPublic());
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
            PublicKey issuerKey = issuer == null ? pair.getPublic() : issuer.certificate().getPublicKey();
            b.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(issuerKey));
            if (ca != null) {
                b.addExtension(Extension.basicConstraints, true,
                        ca && pathLength != null ? new BasicConstraints(pathLength) : new BasicConstraints(ca));
            }
            if (keyUsage != null) {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
            }
            if (!ekus.isEmpty()) {
                ASN1Encodable[] ids = ekus.stream().map(KeyPurposeId::getInstance).toArray(ASN1Encodable[]::new);
                b.addExtension(Extension.extendedKeyUsage, false, new DERSequence(ids));
            }
            if (!dnsNames.isEmpty() || !ipAddresses.isEmpty()) {
                GeneralName[] names = java.util.stream.Stream.concat(
                        dnsNames.stream().map(n -> new GeneralName(GeneralName.dNSName, n)),
                        ipAddresses.stream().map(a -> new GeneralName(GeneralName.iPAddress, a)))
                        .toArray(GeneralName[]::new);
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            if (crlDistributionPoint != null) {
                DistributionPointName dpn = new DistributionPointName(new GeneralNames(
                        new GeneralName(GeneralName.uniformResourceIdentifier, crlDistributionPoint)));
                b.addExtension(Extension.cRLDistributionPoints, false,
                        new CRLDistPoint(new DistributionPoint[] {new DistributionPoint(dpn, null, null)}));
            }
            for (Extension e : extensions) {
                b.addExtension(e);
            }
            PrivateKey signingKey = signer == null ? pair.getPrivate() : signer.privateKey();
            KeyType signingType = signer == null ? KeyType.of(pair) : KeyType.of(signer.keyPair());
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(signingType.signatureAlgorithm()).setProvider(BC).build(signingKey)));
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(cert);
            if (issuer != null) {
                chain.addAll(issuer.chainBelowRoot());
            }
            return new IssuedCertificate(cert, pair, chain);
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("test PKI could not build " + subject + ": " + e.getMessage(), e);
        }
    }
}
