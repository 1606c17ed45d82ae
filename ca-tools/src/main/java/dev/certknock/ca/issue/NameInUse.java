package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.IssuedEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.X500Name;

/**
 * A name issued twice by mistake gives two valid certificates that logs and {@code list} tell apart by serial only:
 * issuing a name that already has a valid (unexpired, unrevoked) certificate of the same kind is refused unless the
 * operator says {@code --force}. Checked before signing (and before any password prompt); {@code renew} is the way
 * to replace a certificate on purpose.
 */
public final class NameInUse {

    private NameInUse() {
    }

    /** The subject DN text the database holds for a certificate issued with this subject. */
    public static String subjectText(X500Name subject) {
        try {
            return new X500Principal(subject.getEncoded()).getName();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Refuses when the CA in {@code caDir} holds a valid certificate of this kind and subject.
     *
     * @param name the name as given, for the message
     * @param command the command to suggest {@code --force} and {@code renew} for (issue-client, issue-server)
     */
    public static void refuseValid(Path caDir, String kind, X500Name subject, String name, Instant now, String command) {
        CaStore store = new CaStore(CaDirectory.open(caDir));
        List<IssuedEntry> valid = store.database().validWithSubject(kind, subjectText(subject), now);
        if (valid.isEmpty()) {
            return;
        }
        String serials = valid.stream().map(e -> e.serial() + " (until " + e.notAfter() + ")").collect(Collectors.joining(", "));
        throw CaException.failure("'" + name + "' already has a valid " + kind + " certificate: serial " + serials
                + ". To replace it, run 'knock-ca renew --dir " + caDir + " " + name + " --out FILE' (add --revoke-old to revoke the old one); "
                + "to issue a second certificate of the same name anyway, run " + command + " again with --force");
    }
}
