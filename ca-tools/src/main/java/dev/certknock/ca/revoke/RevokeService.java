package dev.certknock.ca.revoke;

import dev.certknock.ca.CaException;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.store.CaDatabase;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.IssuedEntry;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import dev.certknock.ca.issue.NameInUse;
import dev.certknock.ca.pki.Names;

/**
 * Marks a certificate revoked in the CA database. It takes effect for servers with the next CRL
 * ({@code knock-ca crl}); no key is needed to record it.
 */
public final class RevokeService {

    private final Clock clock;

    public RevokeService(Clock clock) {
        this.clock = clock;
    }

    /** Revokes by serial (hex). */
    public IssuedEntry revokeSerial(Path caDir, String serialText, RevocationReason reason) {
        return revoke(CaDirectory.open(caDir), Pki.serialHex(Pki.parseSerial(serialText)), reason, "serial " + serialText.trim());
    }

    /**
     * Revokes by serial (hex) or by name: text that is the serial of a certificate in the database is that serial;
     * otherwise it is a name (certificate CN), and the one valid (unexpired, unrevoked) certificate of that name is
     * revoked. No valid certificate of the name, or several, is refused (bad input), the latter listing their
     * serials to choose from.
     */
    public IssuedEntry revokeSerialOrName(Path caDir, String text, RevocationReason reason) {
        CaDirectory dir = CaDirectory.open(caDir);
        String serialHex = null;
        try {
            serialHex = Pki.serialHex(Pki.parseSerial(text));
        } catch (CaException notHex) {
            // a name
        }
        CaStore store = new CaStore(dir);
        try (CaStore.Locked lock = store.lock()) {
            CaDatabase db = lock.read();
            if (serialHex != null && db.containsSerial(serialHex)) {
                return revoke(lock, db, dir, serialHex, reason, "serial " + text.trim());
            }
            String subject = NameInUse.subjectText(Names.commonName(text, "the name to revoke"));
            Instant now = clock.instant();
            List<IssuedEntry> valid = new ArrayList<>();
            valid.addAll(db.validWithSubject(IssuedEntry.CLIENT, subject, now));
            valid.addAll(db.validWithSubject(IssuedEntry.SERVER, subject, now));
            if (valid.isEmpty()) {
                throw CaException.badInput("'" + text.trim() + "' is not in the database of the CA in " + dir.root()
                        + ", as a serial or as the name of a valid certificate: see 'knock-ca list' for names and serials");
            }
            if (valid.size() > 1) {
                throw CaException.badInput("'" + text.trim() + "' names " + valid.size() + " valid certificates: "
                        + valid.stream().map(e -> e.serial() + " (" + e.kind() + ", until " + e.notAfter() + ")")
                                .collect(Collectors.joining(", ")) + "; revoke one by its serial");
            }
            return revoke(lock, db, dir, valid.get(0).serial(), reason, "name " + text.trim());
        }
    }

    /** Revokes the certificate in a file, which must have been issued by this CA. */
    public IssuedEntry revokeCertificate(Path caDir, Path certificateFile, RevocationReason reason) {
        CaDirectory dir = CaDirectory.open(caDir);
        X509Certificate cert = PemFiles.certificate(certificateFile);
        X509Certificate ca = PemFiles.certificate(dir.certificateFile());
        try {
            cert.verify(ca.getPublicKey(), Pki.PROVIDER);
        } catch (Exception e) {
            throw CaException.badInput(certificateFile + " was not issued by the CA in " + caDir + " (its issuer is "
                    + cert.getIssuerX500Principal().getName() + "): give the directory of the CA that issued it");
        }
        return revoke(dir, Pki.serialHex(cert.getSerialNumber()), reason, certificateFile.toString());
    }

    private IssuedEntry revoke(CaDirectory dir, String serialHex, RevocationReason reason, String what) {
        CaStore store = new CaStore(dir);
        try (CaStore.Locked lock = store.lock()) {
            return revoke(lock, lock.read(), dir, serialHex, reason, what);
        }
    }

    private IssuedEntry revoke(CaStore.Locked lock, CaDatabase db, CaDirectory dir, String serialHex, RevocationReason reason,
            String what) {
        IssuedEntry entry = db.find(serialHex).orElseThrow(() -> CaException.badInput(what
                + " is not in the database of the CA in " + dir.root() + ": see 'knock-ca list' for the serials it issued"));
        if (entry.isRevoked()) {
            throw CaException.failure("serial " + serialHex + " (" + entry.subject() + ") is already revoked, since "
                    + entry.revokedAt() + " with reason " + entry.reason() + ": nothing to do");
        }
        IssuedEntry revoked = entry.revoked(clock.instant(), reason.rfcName());
        lock.commit(db.replace(revoked));
        return revoked;
    }
}
