package dev.certknock.ca.init;

import dev.certknock.ca.CaException;
import dev.certknock.ca.issue.CaBounds;
import dev.certknock.ca.issue.GrantOptions;
import dev.certknock.ca.issue.SigningCa;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.ca.pki.Extensions;
import dev.certknock.ca.pki.KeyType;
import dev.certknock.ca.pki.Names;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.store.AtomicFiles;
import dev.certknock.ca.store.CaDatabase;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaSettings;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.IssuedEntry;
import dev.certknock.ca.store.KeyFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * Creates a CA directory: a root (self-signed, no path length limit) or an intermediate signed by a root in
 * another directory (path length 0, so it can issue only end-entity certificates, and the root can stay
 * offline). The new key is encrypted at rest; the parent records the intermediate in its database. Given a bound,
 * the CA certificate carries it as its own grants extension (docs/GRANT-EXTENSION.md): the bound must lie inside
 * the parent's and its issuers' bounds.
 */
public final class CaInitService {

    public static final int MAX_CRL_DAYS = 366;

    private final Clock clock;
    private final SecureRandom random;

    public CaInitService(Clock clock, SecureRandom random) {
        this.clock = clock;
        this.random = random;
    }

    public InitResult init(InitRequest r) {
        KeyType keyType = KeyType.parse(r.keyType(), Set.of(KeyType.P256, KeyType.ED25519), "CA key");
        X500Name subject = Names.commonName(r.name(), "the CA name (--name)");
        String crlUrl = checkCrlUrl(r.crlUrl());
        if (r.crlDays() < 1 || r.crlDays() > MAX_CRL_DAYS) {
            throw CaException.badInput("--crl-days " + r.crlDays() + " is outside 1-" + MAX_CRL_DAYS
                    + ": servers fetch a new CRL before nextUpdate, so a week (7) is usual");
        }
        if (r.days() < 1) {
            throw CaException.badInput("--days " + r.days() + " must be at least 1");
        }
        if (r.password() == null || r.password().length < 8) {
            throw CaException.badInput("the CA key password is shorter than 8 characters: choose a longer one");
        }
        CertknockGrants bound = r.bound() == null ? null : bound(r.bound());
        if (bound != null && r.parentDir() != null) {
            // Checked again under the parent's lock below; here first so that a refusal leaves no directory behind.
            CaBounds.requireInside(PemFiles.certificates(CaDirectory.open(r.parentDir()).chainFile()), bound,
                    "the intermediate CA's bound", "the parent CA");
        }
        prepareDirectory(r.dir());

        // Whole seconds, as the certificate holds them (X.509 times have no fractions): what init prints and the
        // parent's index records is then the certificate's own notAfter, as issue-client does.
        Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        Instant notBefore = now.minus(SigningCa.BACKDATE);
        Instant notAfter = now.plus(Duration.ofDays(r.days()));
        KeyPair keys = keyType.generate(random);
        CaDirectory dir = new CaDirectory(r.dir());
        X509Certificate cert;
        List<X509Certificate> chain;
        String parent = null;
        if (r.parentDir() == null) {
            cert = selfSigned(subject, keys, notBefore, notAfter, bound);
            chain = List.of(cert);
        } else {
            CaStore parentStore = new CaStore(CaDirectory.open(r.parentDir()));
            try (CaStore.Locked lock = parentStore.lock()) {
                SigningCa parentCa = SigningCa.open(parentStore, r.parentPassword());
                if (parentCa.certificate().getBasicConstraints() == 0) {
                    throw CaException.badInput(r.parentDir() + " is an intermediate CA whose path length is 0: "
                            + "it cannot sign another CA; give the root's directory with --parent");
                }
                parentCa.requireWithinValidity(notAfter, "intermediate CA certificate", now);
                if (bound != null) {
                    CaBounds.requireInside(parentCa.chain(), bound, "the intermediate CA's bound", "the parent CA");
                }
                CaDatabase db = lock.read();
                BigInteger serial = SigningCa.newSerial(db, random);
                List<Extension> extensions = new ArrayList<>(List.of(
                        new Extension(Extension.basicConstraints, true, encoded(new BasicConstraints(0))),
                        new Extension(Extension.keyUsage, true, encoded(new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)))));
                if (bound != null) {
                    extensions.add(GrantsExtension.toExtension(bound));
                }
                cert = parentCa.sign(serial, subject, keys.getPublic(), notBefore, notAfter, extensions);
                chain = Pki.concat(cert, parentCa.chain());
                String hex = Pki.serialHex(serial);
                lock.commit(db.with(new IssuedEntry(hex, cert.getSubjectX500Principal().getName(), IssuedEntry.CA,
                        "intermediate CA, " + keyType.label() + ", path length 0"
                                + (bound != null ? "; bound " + GrantOptions.summary(bound) : ""), notBefore.toString(),
                        notAfter.toString(), null, null)));
                AtomicFiles.write(parentStore.directory().issuedFile(hex), pemBytes(List.of(cert)), AtomicFiles.PUBLIC);
            }
            parent = r.parentDir().toAbsolutePath().normalize().toString();
        }

        AtomicFiles.createDirectory(dir.privateDir(), AtomicFiles.PRIVATE_DIR);
        KeyFiles.writeEncrypted(dir.keyFile(), keys.getPrivate(), r.password());
        AtomicFiles.createDirectory(dir.issuedDir(), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        AtomicFiles.writeNew(dir.certificateFile(), pemBytes(List.of(cert)), AtomicFiles.PUBLIC);
        AtomicFiles.writeNew(dir.chainFile(), pemBytes(chain), AtomicFiles.PUBLIC);
        String publish = r.publishDir() == null ? "publish" : r.publishDir().toString();
        CaStore store = new CaStore(dir);
        store.createDatabase(CaDatabase.empty());
        // ca.json last: a directory without it is not a CA, so an init that failed midway is never used.
        store.writeSettings(new CaSettings(CaSettings.FORMAT_VERSION, r.name().strip(), keyType.label(), crlUrl,
                r.crlDays(), publish, parent));
        return new InitResult(r.dir(), cert.getSubjectX500Principal().getName(), Pki.serialHex(cert.getSerialNumber()),
                keyType.label(), notAfter.toString(), Pki.fingerprint(encodedCert(cert)),
                cert.getIssuerX500Principal().getName(), parent != null, bound != null ? GrantOptions.summary(bound) : null);
    }

    /** The bound the options describe: at least one grant; server entries names or {@code *.} and a name. */
    private static CertknockGrants bound(GrantOptions options) {
        if (options.grants().isEmpty()) {
            if (options.maxOpenSeconds() == null && options.servers().isEmpty() && options.sources().isEmpty()) {
                return null;
            }
            throw CaException.badInput("--max-open, --server and --source bound a CA only together with --grant: give the "
                    + "ports this CA may grant, e.g. --grant tcp/5432 (a CA given none of these options may grant anything)");
        }
        for (String server : options.servers()) {
            String problem = CaBounds.serverPatternProblem(server);
            if (problem != null) {
                throw CaException.badInput("--server " + problem);
            }
        }
        return options.toGrants();
    }

    private X509Certificate selfSigned(X500Name subject, KeyPair keys, Instant notBefore, Instant notAfter,
            CertknockGrants bound) {
        BigInteger serial = SigningCa.newSerial(CaDatabase.empty(), random);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial, Date.from(notBefore),
                Date.from(notAfter), subject, keys.getPublic());
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, Extensions.subjectKeyId(keys.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, Extensions.authorityKeyId(keys.getPublic()));
            if (bound != null) {
                b.addExtension(GrantsExtension.toExtension(bound));
            }
        } catch (CertIOException e) {
            throw new IllegalStateException(e);
        }
        return Pki.certificate(b.build(Pki.signer(keys.getPrivate())));
    }

    private static String checkCrlUrl(String url) {
        if (url == null || url.isBlank()) {
            throw CaException.badInput("no --crl-url: give the URL where servers will fetch this CA's CRL, e.g. http://ca.example.test/certknock.crl");
        }
        try {
            URI u = new URI(url.trim());
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw CaException.badInput("--crl-url '" + url + "' is not an http or https URL with a host, e.g. http://ca.example.test/certknock.crl");
            }
            return u.toString();
        } catch (URISyntaxException e) {
            throw CaException.badInput("--crl-url '" + url + "' is not a valid URL: " + e.getReason());
        }
    }

    private static void prepareDirectory(Path dir) {
        try {
            if (Files.exists(dir)) {
                if (Files.isRegularFile(dir.resolve("ca.json"))) {
                    throw CaException.failure(dir + " already holds a CA: choose a new directory (init never overwrites a CA)");
                }
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.findAny().isPresent()) {
                        throw CaException.failure(dir + " is not empty: give a new or empty directory for the CA");
                    }
                }
                Files.setPosixFilePermissions(dir, AtomicFiles.PRIVATE_DIR);
            } else {
                Files.createDirectories(dir.toAbsolutePath().getParent());
                AtomicFiles.createDirectory(dir, AtomicFiles.PRIVATE_DIR);
            }
        } catch (IOException e) {
            throw CaException.failure("cannot prepare the CA directory " + dir + ": " + e);
        }
    }

    static byte[] pemBytes(List<X509Certificate> certs) {
        return Pki.pem(certs).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] encoded(org.bouncycastle.asn1.ASN1Encodable value) {
        try {
            return value.toASN1Primitive().getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encodedCert(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}

