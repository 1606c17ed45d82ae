package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.ca.pki.Bundles;
import dev.certknock.ca.pki.KeyType;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.revoke.RevocationReason;
import dev.certknock.ca.store.AtomicFiles;
import dev.certknock.ca.store.CaDatabase;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.IssuedEntry;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;

/**
 * Renews a certificate: the same subject, grants and other extensions as one the CA issued, read from the CA's
 * own copy of it (never retyped), for a new key, the same key or a request's key, and a new lifetime. The old
 * certificate is revoked (superseded) in the same atomic database commit when asked.
 */
public final class RenewService {

    /** Extensions the CA writes afresh into every certificate, so they are not copied from the old one. */
    private static final Set<ASN1ObjectIdentifier> REWRITTEN = Set.of(Extension.subjectKeyIdentifier,
            Extension.authorityKeyIdentifier, Extension.cRLDistributionPoints);

    private final Clock clock;
    private final SecureRandom random;

    public RenewService(Clock clock, SecureRandom random) {
        this.clock = clock;
        this.random = random;
    }

    public RenewResult renew(RenewRequest r) {
        CaDirectory dir = CaDirectory.open(r.caDir());
        CaStore store = new CaStore(dir);
        Instant now = clock.instant();
        IssuedEntry old = find(store.database(), r, now);
        X509Certificate oldCert = PemFiles.certificate(dir.issuedFile(old.serial()));
        if (!Pki.serialHex(oldCert.getSerialNumber()).equals(old.serial())) {
            throw CaException.failure(dir.issuedFile(old.serial()) + " holds serial " + Pki.serialHex(oldCert.getSerialNumber())
                    + ", not " + old.serial() + ": the CA's copy of the certificate was replaced; restore the CA directory from a backup");
        }
        Duration validFor = r.validFor() != null ? Lifetime.check(r.validFor(), "--valid-for")
                : Lifetime.check(Duration.between(oldCert.getNotBefore().toInstant().plus(SigningCa.BACKDATE),
                        oldCert.getNotAfter().toInstant()), "the old certificate's lifetime (give --valid-for)");
        String cn = commonName(oldCert);
        KeyPair keys = null;
        PublicKey publicKey;
        Path certOut = null;
        switch (r.key()) {
            case NEW -> {
                KeyType type = KeyType.of(oldCert.getPublicKey());
                if (type == null) {
                    throw CaException.badInput("serial " + old.serial() + " certifies a " + oldCert.getPublicKey().getAlgorithm()
                            + " key, a type knock-ca does not make: renew it with --csr or --reuse-key");
                }
                IssueService.requireBundlePassword(r.bundlePassword());
                certOut = r.certOut() != null ? r.certOut() : IssueService.pemBeside(r.out());
                AtomicFiles.requireAbsent(r.out());
                AtomicFiles.requireAbsent(certOut);
                keys = type.generate(random);
                publicKey = keys.getPublic();
            }
            case REUSE -> {
                AtomicFiles.requireAbsent(r.out());
                publicKey = oldCert.getPublicKey();
            }
            case CSR -> {
                if (!IssuedEntry.CLIENT.equals(old.kind())) {
                    throw CaException.badInput("serial " + old.serial() + " is a " + old.kind() + " certificate: its "
                            + "knock key cannot sign a request; renew it with a new key (the default) or --reuse-key");
                }
                publicKey = IssueService.publicKeyOf(r.csr());
                AtomicFiles.requireAbsent(r.out());
            }
            default -> throw new IllegalStateException("unknown key source " + r.key());
        }
        IssueService issuer = new IssueService(clock, random);
        String what = old.kind() + " certificate";
        IssueService.Issued issued = issuer.issue(dir, r.caPassword(), X500Name.getInstance(oldCert.getSubjectX500Principal()
                .getEncoded()), publicKey, validFor, extensionsOf(oldCert), old.kind(), old.detail(), what,
                db -> stillValid(db, old, r.revokeOld(), clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
        List<Path> files = new ArrayList<>();
        if (keys != null) {
            Bundles.write(r.out(), cn, keys.getPrivate(), Pki.concat(issued.certificate(), issued.chain()), r.bundlePassword());
            files.add(r.out());
            AtomicFiles.writeNew(certOut, IssueService.pem(List.of(issued.certificate())), AtomicFiles.PUBLIC);
            files.add(certOut);
        } else {
            AtomicFiles.writeNew(r.out(), IssueService.pem(Pki.concat(issued.certificate(), issued.chain())), AtomicFiles.PUBLIC);
            files.add(r.out());
        }
        IssuedEntry after = store.database().find(old.serial()).orElse(old);
        return new RenewResult(issued.result(files), after);
    }

    /** Inside the issuing commit: refuses if the old certificate was revoked meanwhile, else revokes it if asked. */
    private static CaDatabase stillValid(CaDatabase db, IssuedEntry old, boolean revoke, Instant at) {
        IssuedEntry current = db.find(old.serial()).orElse(old);
        if (current.isRevoked()) {
            throw CaException.failure("serial " + old.serial() + " was revoked meanwhile (" + current.reason() + ", at "
                    + current.revokedAt() + "): nothing was issued; issue a new certificate with issue-client or issue-server");
        }
        return revoke ? db.replace(current.revoked(at, RevocationReason.SUPERSEDED.rfcName())) : db;
    }

    /** The certificate a request names: by serial, or the newest valid one with that name. */
    private static IssuedEntry find(CaDatabase db, RenewRequest r, Instant now) {
        if (r.serial() != null) {
            String hex = Pki.serialHex(Pki.parseSerial(r.serial()));
            IssuedEntry e = db.find(hex).orElseThrow(() -> CaException.badInput("serial " + r.serial().strip()
                    + " is not in the CA database: see 'knock-ca list' for the serials it issued"));
            if (IssuedEntry.CA.equals(e.kind())) {
                throw CaException.badInput("serial " + hex + " is a CA certificate: renew clients and servers only; for a "
                        + "new CA certificate make a new CA with 'knock-ca init'");
            }
            requireNotRevoked(e);
            return e; // an expired certificate may be renewed deliberately by serial
        }
        String subject = new X500Principal(encoded(dev.certknock.ca.pki.Names.commonName(r.name(), "the name"))).getName();
        List<IssuedEntry> named = db.entries().stream()
                .filter(e -> !IssuedEntry.CA.equals(e.kind()) && e.subject().equals(subject)).toList();
        if (named.isEmpty()) {
            throw CaException.badInput("no certificate named '" + r.name().strip() + "' (" + subject + ") in the CA "
                    + "database: see 'knock-ca list'; a new client or server gets one with issue-client or issue-server");
        }
        // newest first: the latest notBefore, and of those issued in the same second the later in the database
        List<IssuedEntry> valid = new ArrayList<>(named.stream().filter(e -> e.status(now).equals("valid")).toList());
        java.util.Collections.reverse(valid);
        valid.sort(Comparator.comparing((IssuedEntry e) -> Instant.parse(e.notBefore())).reversed());
        if (valid.isEmpty()) {
            IssuedEntry last = named.get(named.size() - 1);
            if (last.isRevoked()) {
                requireNotRevoked(last);
            }
            throw CaException.badInput("'" + r.name().strip() + "' has no valid certificate: the last one, serial "
                    + last.serial() + ", expired at " + last.notAfter() + "; renew it deliberately with --serial "
                    + last.serial() + ", or issue a new one");
        }
        Set<String> kinds = valid.stream().map(IssuedEntry::kind).collect(Collectors.toSet());
        if (kinds.size() > 1) {
            throw CaException.badInput("'" + r.name().strip() + "' names both a client and a server certificate: give --serial "
                    + valid.stream().map(IssuedEntry::serial).collect(Collectors.joining(" or ")));
        }
        return valid.get(0);
    }

    private static void requireNotRevoked(IssuedEntry e) {
        if (e.isRevoked()) {
            throw CaException.failure("serial " + e.serial() + " (" + e.subject() + ") was revoked at " + e.revokedAt()
                    + " with reason " + e.reason() + ": a revoked certificate is not renewed; if the holder should have "
                    + "access again, issue a new certificate with issue-client or issue-server");
        }
    }

    private static List<Extension> extensionsOf(X509Certificate cert) {
        try {
            Extensions all = new JcaX509CertificateHolder(cert).getExtensions();
            List<Extension> copied = new ArrayList<>();
            if (all != null) {
                for (ASN1ObjectIdentifier oid : all.getExtensionOIDs()) {
                    if (!REWRITTEN.contains(oid)) {
                        copied.add(all.getExtension(oid));
                    }
                }
            }
            return copied;
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String commonName(X509Certificate cert) {
        RDN[] cns = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded()).getRDNs(BCStyle.CN);
        return cns.length == 0 ? cert.getSubjectX500Principal().getName() : cns[0].getFirst().getValue().toString();
    }

    private static byte[] encoded(X500Name name) {
        try {
            return name.getEncoded();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
