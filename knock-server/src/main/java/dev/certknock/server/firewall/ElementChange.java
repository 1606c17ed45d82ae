package dev.certknock.server.firewall;

import dev.certknock.server.grant.GrantElement;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Objects;

/** One change of a batch that the ledger hands to an {@link ElementWriter}. */
public sealed interface ElementChange {

    GrantElement element();

    /**
     * Make the element present until {@code expires} from now (creating it, or refreshing it when present), tagged
     * with {@code comment}.
     *
     * @param timeout the element's nominal lifetime (at least {@code expires})
     * @param expires how long it has left, at least 1 ms
     * @param comment the holder tags ({@link HolderTags#format}): hex, spaces and the version word only; null for
     *                none (an element from before a restart whose comment named no holder)
     * @param serial  the serial of the holder's certificate, for backends that pass it on ({@code command}); null
     *                when the element is written again for a holder known only by its tags (after a restart)
     */
    record Add(GrantElement element, Duration timeout, Duration expires, String comment, BigInteger serial)
            implements ElementChange {
        public Add {
            Objects.requireNonNull(element, "element");
            if (expires.toMillis() < 1) {
                throw new IllegalArgumentException("an element must expire at least 1 ms from now, not " + expires);
            }
            if (timeout.compareTo(expires) < 0) {
                timeout = expires;
            }
        }
    }

    /** Make the element absent, whether or not it is still present (the kernel may have expired it). */
    record Remove(GrantElement element) implements ElementChange {
        public Remove {
            Objects.requireNonNull(element, "element");
        }
    }
}
