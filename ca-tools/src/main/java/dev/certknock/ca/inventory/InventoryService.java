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
import java.time.Instant;
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
