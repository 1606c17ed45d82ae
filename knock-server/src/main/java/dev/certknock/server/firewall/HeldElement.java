package dev.certknock.server.firewall;

import dev.certknock.server.grant.GrantElement;
import java.time.Duration;
import java.util.Objects;

/**
 * An element as a backend reports it holding (at start, to rebuild the ledger after a restart).
 *
 * @param expires how long it has left as the backend says (whole seconds for the kernel backends)
 * @param comment its comment, or null when it has none
 */
public record HeldElement(GrantElement element, Duration expires, String comment) {
    public HeldElement {
        Objects.requireNonNull(element, "element");
        Objects.requireNonNull(expires, "expires");
    }
}
