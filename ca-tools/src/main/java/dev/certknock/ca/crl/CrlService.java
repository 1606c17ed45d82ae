package dev.certknock.ca.crl;

import dev.certknock.ca.CaException;
import dev.certknock.ca.issue.SigningCa;
import dev.certknock.ca.pki.Extensions;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.revoke.RevocationReason;
import dev.certknock.ca.store.AtomicFiles;
import dev.certknock.ca.store.CaDatabase;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.IssuedEntry;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;

/**
 * Signs a CRL of every certificate the database marks revoked that has not expired long enough ago to be left
 * out (below): CRL number one above the last, thisUpdate now,
 * nextUpdate after the CA's configured days, the authority key identifier, and each entry's reason (left out
 * for "unspecified", as RFC 5280 asks). The new number is committed to the database first, so no two CRLs
 * ever share a number; the DER and PEM files are then replaced atomically in the publish directory.
 *
 * <p>Expired certificates leave the CRL (RFC 5280 section 3.3): an entry is dropped once it has appeared on
 * one CRL issued after the certificate's notAfter, that is when the previous CRL's thisUpdate is past the
 * certificate's notAfter and its revocation came before that CRL. From then on every relying party refuses
 * the certificate for its validity alone, so the CRL (and each server's memory) stays as small as the set of
 * revoked certificates that could still be used.
 */
public final class CrlService {

    private final Clock clock;

    public CrlService(Clock clock) {
        this.clock = clock;
    }

    /** Publishes into {@code publishDir}, or the CA's configured directory when null. */
    public CrlResult publish(Path caDir, char[] caPassword, Path publishDir) {
        CaStore store = new CaStore(CaDirectory.open(caDir));
        try (CaStore.Locked lock = store.lock()) {
            SigningCa ca = SigningCa.open(store, caPassword);
            Path target = publishDir != null ? publishDir : caDir.resolve(ca.settings().publishDir());
            prepare(target);
            CaDatabase db = lock.read();
            long number = db.lastCrlNumber() + 1;
            Instant now = clock.instant();
            Instant next = now.plus(Duration.ofDays(ca.settings().crlDays()));
            X509v2CRLBuilder b = new X509v2CRLBuilder(ca.subject(), Date.from(now));
            b.setNextUpdate(Date.from(next));
            Instant previous = db.lastCrlAt() == null ? null : Instant.parse(db.lastCrlAt());
            int count = 0;
            int dropped = 0;
            for (IssuedEntry e : db.entries()) {
                if (!e.isRevoked()) {
                    continue;
                }
                if (listedAfterExpiry(e, previous)) {
                    dropped++;
                    continue;
                }
                RevocationReason reason = RevocationReason.parse(e.reason());
                BigInteger serial = new BigInteger(e.serial(), 16);
                Date when = Date.from(Instant.parse(e.revokedAt()));
                if (reason == RevocationReason.UNSPECIFIED) {
                    b.addCRLEntry(serial, when, null);
                } else {
                    b.addCRLEntry(serial, when, reason.code());
                }
                count++;
            }
            X509CRLHolder crl;
            try {
                b.addExtension(Extension.authorityKeyIdentifier, false, Extensions.authorityKeyId(ca.certificate()));
                b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(number)));
                crl = b.build(Pki.signer(ca.key()));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            lock.commit(db.withLastCrl(number, now));
            String name = ca.settings().crlFileName();
            Path der = target.resolve(name);
            Path pem = target.resolve(name + ".pem");
            try {
                AtomicFiles.write(der, crl.getEncoded(), AtomicFiles.PUBLIC);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            AtomicFiles.write(pem, Pki.pem(crl).getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);
            return new CrlResult(number, now.toString(), next.toString(), count, dropped, der, pem);
        }
    }

    /**
     * Whether the revoked certificate expired before the previous CRL and was on it: RFC 5280 section 3.3 lets
     * its entry go only after it "appears on one regularly scheduled CRL issued beyond the revoked
     * certificate's validity period".
     */
    static boolean listedAfterExpiry(IssuedEntry e, Instant previousCrl) {
        if (previousCrl == null) {
            return false;
        }
        Instant notAfter = Instant.parse(e.notAfter());
        Instant revoked = Instant.parse(e.revokedAt());
        return notAfter.isBefore(previousCrl) && !revoked.isAfter(previousCrl);
    }

    private static void prepare(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw CaException.failure("cannot create the publish directory " + dir + ": " + e);
        }
    }

}
