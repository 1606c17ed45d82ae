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
            CaDatabase db = lock.read();
            IssuedEntry entry = db.find(serialHex).orElseThrow(() -> CaException.badInput(what
                    + " is not in the database of the CA in " + dir.root() + ": see 'knock-ca list' for the serials it issued"));
            if (entry.isRevoked()) {
                throw CaException.failure("serial " + serialHex + " (" + entry.subject() + ") is already revoked, since "
                        + entry.revokedAt() + " with reason " + entry.reason() + ": nothing to do");
            }
            Instant now = clock.instant();
            IssuedEntry revoked = entry.revoked(now, reason.rfcName());
            lock.commit(db.replace(revoked));
            return revoked;
        }
    }
}
