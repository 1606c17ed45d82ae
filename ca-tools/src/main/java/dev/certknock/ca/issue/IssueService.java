package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.ca.pki.Bundles;
import dev.certknock.ca.pki.KeyType;
import dev.certknock.ca.pki.Names;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.store.AtomicFiles;
import dev.certknock.ca.store.CaDatabase;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.IssuedEntry;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Issues client certificates (EKU id-kp-certknockClient and the grants extension) and server certificates
 * (EKU id-kp-certknockServer, a DNS name, a P-256 or X25519 knock key). Each issuance runs under the CA
 * database lock: the serial is fresh, the database records the certificate before anyone receives it.
 */
public final class IssueService {

    private final Clock clock;
    private final SecureRandom random;

    public IssueService(Clock clock, SecureRandom random) {
        this.clock = clock;
        this.random = random;
    }

    /** A client certificate, with a key made here (bundle) or for the key in a CSR (certificate and chain). */
    public IssueResult issueClient(ClientRequest r) {
        CaDirectory dir = CaDirectory.open(r.caDir());
        X500Name subject = Names.commonName(r.name(), "the client name");
        CertknockGrants grants = r.grants().toGrants();
        CaBounds.requireInside(PemFiles.certificates(dir.chainFile()), grants, "the client certificate", "this CA");
        Path certOut = null;
        KeyPair keys = null;
        PublicKey publicKey;
        if (r.csr() != null) {
            publicKey = publicKeyOf(r.csr());
            AtomicFiles.requireAbsent(r.out());
        } else {
            KeyType type = KeyType.parse(r.keyType(), Set.of(KeyType.P256, KeyType.ED25519), "client key");
            requireBundlePassword(r.bundlePassword());
            certOut = r.certOut() != null ? r.certOut() : pemBeside(r.out());
            AtomicFiles.requireAbsent(r.out());
            AtomicFiles.requireAbsent(certOut);
            keys = type.generate(random);
            publicKey = keys.getPublic();
        }
        List<Extension> extensions = List.of(
                extension(Extension.basicConstraints, true, new BasicConstraints(false)),
                extension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature)),
                extension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.getInstance(CertknockOids.KP_CLIENT))),
                GrantsExtension.toExtension(grants, r.criticalGrants()));
        String detail = GrantOptions.summary(grants) + (r.criticalGrants() ? " (critical)" : "");
        Issued issued = issue(dir, r.caPassword(), subject, publicKey, Lifetime.check(r.validFor(), "--valid-for"), extensions,
                IssuedEntry.CLIENT, detail, "client certificate", db -> db);
        List<Path> files = new ArrayList<>();
        if (keys != null) {
            Bundles.write(r.out(), r.name().strip(), keys.getPrivate(), Pki.concat(issued.certificate, issued.chain),
                    r.bundlePassword());
            files.add(r.out());
            AtomicFiles.writeNew(certOut, pem(List.of(issued.certificate)), AtomicFiles.PUBLIC);
            files.add(certOut);
        } else {
            AtomicFiles.writeNew(r.out(), pem(Pki.concat(issued.certificate, issued.chain)), AtomicFiles.PUBLIC);
            files.add(r.out());
        }
        return issued.result(files);
    }

    /** A server certificate with a fresh knock key, in a bundle for the server and as PEM for the clients. */
    public IssueResult issueServer(ServerRequest r) {
        CaDirectory dir = CaDirectory.open(r.caDir());
        String dns = Names.dnsName(r.dnsName());
        List<String> ips = new ArrayList<>();
        List<GeneralName> altNames = new ArrayList<>(List.of(new GeneralName(GeneralName.dNSName, dns)));
        for (String ip : r.ipAddresses()) {
            String a = Names.ipAddress(ip);
            if (!ips.contains(a)) {
                ips.add(a);
                altNames.add(new GeneralName(GeneralName.iPAddress, a));
            }
        }
        KeyType type = KeyType.parse(r.keyType(), Set.of(KeyType.P256, KeyType.X25519), "server knock key");
        requireBundlePassword(r.bundlePassword());
        Path certOut = r.certOut() != null ? r.certOut() : pemBeside(r.out());
        AtomicFiles.requireAbsent(r.out());
        AtomicFiles.requireAbsent(certOut);
        KeyPair keys = type.generate(random);
        List<Extension> extensions = List.of(
                extension(Extension.basicConstraints, true, new BasicConstraints(false)),
                // The knock key is a key-agreement key (HPKE's DHKEM): it never signs.
                extension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyAgreement)),
                extension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.getInstance(CertknockOids.KP_SERVER))),
                extension(Extension.subjectAlternativeName, false, new GeneralNames(altNames.toArray(GeneralName[]::new))));
        Issued issued = issue(dir, r.caPassword(), Names.commonName(dns, "the server name"), keys.getPublic(),
                Lifetime.check(r.validFor(), "--valid-for"), extensions, IssuedEntry.SERVER,
                "dns " + dns + (ips.isEmpty() ? "" : "; ip " + String.join(", ", ips)) + "; knock key " + type.label(),
                "server certificate", db -> db);
        Bundles.write(r.out(), dns, keys.getPrivate(), Pki.concat(issued.certificate, issued.chain), r.bundlePassword());
        AtomicFiles.writeNew(certOut, pem(List.of(issued.certificate)), AtomicFiles.PUBLIC);
        return issued.result(List.of(r.out(), certOut));
    }

    record Issued(X509Certificate certificate, List<X509Certificate> chain, IssuedEntry entry) {
        IssueResult result(List<Path> files) {
            try {
                return new IssueResult(entry.serial(), entry.subject(), entry.kind(), entry.detail(), entry.notBefore(),
                        entry.notAfter(), Pki.fingerprint(certificate.getEncoded()), files);
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * Signs and records a certificate valid from {@link SigningCa#BACKDATE} before now (whole seconds, as X.509 keeps
     * them) for {@code validFor} after now; {@code alsoChange} changes the database in the same atomic commit (renew
     * revokes the old certificate with it).
     */
    Issued issue(CaDirectory dir, char[] caPassword, X500Name subject, PublicKey publicKey, Duration validFor,
            List<Extension> extensions, String kind, String detail, String what, UnaryOperator<CaDatabase> alsoChange) {
        CaStore store = new CaStore(dir);
        try (CaStore.Locked lock = store.lock()) {
            SigningCa ca = SigningCa.open(store, caPassword);
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            Instant notBefore = now.minus(SigningCa.BACKDATE);
            Instant notAfter = now.plus(validFor);
            ca.requireWithinValidity(notAfter, what, now);
            CaDatabase db = alsoChange.apply(lock.read());
            BigInteger serial = SigningCa.newSerial(db, random);
            X509Certificate cert = ca.sign(serial, subject, publicKey, notBefore, notAfter, extensions);
            String hex = Pki.serialHex(serial);
            IssuedEntry entry = new IssuedEntry(hex, cert.getSubjectX500Principal().getName(), kind, detail,
                    notBefore.toString(), notAfter.toString(), null, null);
            lock.commit(db.with(entry));
            AtomicFiles.write(dir.issuedFile(hex), pem(List.of(cert)), AtomicFiles.PUBLIC);
            return new Issued(cert, ca.chain(), entry);
        }
    }

    static PublicKey publicKeyOf(Path csrFile) {
        PKCS10CertificationRequest csr;
        try {
            csr = new PKCS10CertificationRequest(PemFiles.derOf(csrFile, "CERTIFICATE REQUEST"));
        } catch (IOException | RuntimeException e) {
            if (e instanceof CaException c) {
                throw c;
            }
            throw CaException.badInput(csrFile + " is not a PKCS#10 certificate request: " + e.getMessage());
        }
        KeyType type = KeyType.of(csr.getSubjectPublicKeyInfo());
        if (type != KeyType.P256 && type != KeyType.ED25519) {
            throw CaException.badInput("the request " + csrFile + " holds a "
                    + csr.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm().getId()
                    + " key: a client key must be p256 or ed25519");
        }
        try {
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Pki.PROVIDER)
                    .build(csr.getSubjectPublicKeyInfo()))) {
                throw CaException.badInput("the request " + csrFile + " has a bad signature: it was changed or damaged; ask for a new one");
            }
            return new JcaPKCS10CertificationRequest(csr).setProvider(Pki.PROVIDER).getPublicKey();
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException
                | org.bouncycastle.pkcs.PKCSException e) {
            throw CaException.badInput("cannot check the request " + csrFile + ": " + e.getMessage());
        }
    }

    /** The fewest characters a password protecting a client or server key (bundle or key file) may have. */
    public static final int MIN_BUNDLE_PASSWORD = 12;

    static void requireBundlePassword(char[] password) {
        int length = password == null ? 0 : password.length;
        if (length < MIN_BUNDLE_PASSWORD) {
            throw CaException.badInput("the bundle password has " + length + " characters, fewer than "
                    + MIN_BUNDLE_PASSWORD + ": choose one of at least " + MIN_BUNDLE_PASSWORD
                    + " characters (e.g. `head -c 18 /dev/urandom | base64 > bundle.pass`) and give it again");
        }
    }

    /** {@code x.p12} becomes {@code x.pem}; other names get {@code .pem} appended. */
    static Path pemBeside(Path out) {
        String name = out.getFileName().toString();
        String base = name.endsWith(".p12") || name.endsWith(".pfx") ? name.substring(0, name.length() - 4) : name;
        return out.resolveSibling(base + ".pem");
    }

    static byte[] pem(List<X509Certificate> certs) {
        return Pki.pem(certs).getBytes(StandardCharsets.US_ASCII);
    }

    static Extension extension(org.bouncycastle.asn1.ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
        try {
            return new Extension(oid, critical, value.toASN1Primitive().getEncoded(ASN1Encoding.DER));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
