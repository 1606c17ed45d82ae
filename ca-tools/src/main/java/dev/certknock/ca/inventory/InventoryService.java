package dev.certknock.ca.inventory;

import dev.certknock.ca.store.CaDirectory;
import dev.certknock.ca.store.CaStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/** The inventory of a CA: every certificate it issued with its status now. */
public final class InventoryService {

    private final Clock clock;

    public InventoryService(Clock clock) {
        this.clock = clock;
    }

    /** All certificates in issuing order; {@code kind} null for all kinds. */
    public List<InventoryRow> list(Path caDir, String kind) {
        CaStore store = new CaStore(CaDirectory.open(caDir));
        Instant now = clock.instant();
        return store.database().entries().stream()
                .filter(e -> kind == null || e.kind().equals(kind))
                .map(e -> new InventoryRow(e.serial(), e.subject(), e.kind(), e.detail(), e.notAfter(), e.status(now),
                        e.revokedAt(), e.reason()))
                .toList();
    }
}
