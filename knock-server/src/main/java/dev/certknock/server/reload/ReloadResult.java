package dev.certknock.server.reload;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/** What one reload did: the new configuration is in force, or it was refused and the running one stays. */
public sealed interface ReloadResult {

    /** When the reload ended. */
    Instant at();

    /**
     * The new configuration, keys, trust anchors and CRL settings are in force.
     *
     * @param changed the top-level parts that differ from what ran before (e.g. {@code server.identities},
     *                {@code trust}); empty when the files read the same
     */
    record Applied(Instant at, List<String> changed) implements ReloadResult {
        public Applied {
            Objects.requireNonNull(at, "at");
            changed = List.copyOf(changed);
        }
    }

    /**
     * Nothing changed: the running configuration stays in force.
     *
     * @param reason complete for an operator: where (file:line:column when the file is at fault), what, how to fix
     */
    record Refused(Instant at, String reason) implements ReloadResult {
        public Refused {
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
