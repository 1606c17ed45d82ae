package dev.certknock.ca.inventory;

import dev.certknock.ca.CaException;
import dev.certknock.ca.inspect.InspectService;
import dev.certknock.ca.inspect.Inspection.CertificateInfo;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import dev.certknock.ca.store.IssuedEntry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import java.util.List;

/** The inventory of a CA: every certificate it issued with its status now and, for clients, its grants. */
public final class InventoryService {

    private final Clock clock;

    public InventoryService(Clock clock) {
        this.clock = clock;
    }

    /** All certificates in issuing order; {@code kind} null for all kinds. */
    public List<InventoryRow> list(Path caDir, String kind) {
        CaDirectory dir = CaDirectory.open(caDir);
        CaStore store = new CaStore(dir);
        Instant now = clock.instant();
        return store.database().entries().stream()
                .filter(e -> kind == null || e.kind().equals(kind))
                .map(e -> row(dir, e, now))
                .toList();
    }

    /**
     * Valid certificates (neither revoked nor expired) whose notAfter is within {@code within} from now, soonest
     * first; {@code kind} null for all kinds.
     */
    public List<ExpiringRow> expiring(Path caDir, String kind, Duration within) {
        CaDirectory dir = CaDirectory.open(caDir);
        Instant now = clock.instant();
        Instant horizon = now.plus(within);
        return new CaStore(dir).database().entries().stream()
                .filter(e -> kind == null || e.kind().equals(kind))
                .filter(e -> e.status(now).equals("valid") && !Instant.parse(e.notAfter()).isAfter(horizon))
                .sorted(Comparator.comparing((IssuedEntry e) -> Instant.parse(e.notAfter())).thenComparing(IssuedEntry::serial))
                .map(e -> {
                    Instant end = Instant.parse(e.notAfter());
                    return new ExpiringRow(commonName(e.subject()), e.serial(), e.kind(),
                            end.truncatedTo(ChronoUnit.SECONDS).toString(), Duration.between(now, end).getSeconds());
                })
                .toList();
    }

    /** The CN of a subject DN as the database records it, or the whole DN when it has none. */
    static String commonName(String subject) {
        RDN[] cns = new X500Name(subject).getRDNs(BCStyle.CN);
        return cns.length == 0 ? subject : cns[0].getFirst().getValue().toString();
    }

    private static InventoryRow row(CaDirectory dir, IssuedEntry e, Instant now) {
        if (!e.kind().equals(IssuedEntry.CLIENT)) {
            return withoutGrants(e, now, null);
        }
        Path copy = dir.issuedFile(e.serial());
        CertificateInfo info;
        try {
            info = InspectService.describe(PemFiles.certificate(copy));
        } catch (CaException ex) {
            return withoutGrants(e, now, "the CA's copy of the certificate cannot be read: " + ex.getMessage());
        }
        if (!info.serial().equals(e.serial())) {
            return withoutGrants(e, now, copy + " holds serial " + info.serial() + ", not " + e.serial()
                    + ": the CA's copy of the certificate was replaced");
        }
        if (info.grantsError() != null) {
            return withoutGrants(e, now, "the grants extension in " + copy + " cannot be read: " + info.grantsError());
        }
        return new InventoryRow(e.serial(), e.subject(), e.kind(), e.detail(), e.notAfter(), e.status(now), e.revokedAt(),
                e.reason(), info.grants(), info.maxOpenSeconds(), info.servers(), info.sources(), null);
    }

    /** A row without structured grants: not a client certificate ({@code why} null), or its grants unreadable. */
    private static InventoryRow withoutGrants(IssuedEntry e, Instant now, String why) {
        return new InventoryRow(e.serial(), e.subject(), e.kind(), e.detail(), e.notAfter(), e.status(now), e.revokedAt(),
                e.reason(), null, null, null, null, why);
    }
}
