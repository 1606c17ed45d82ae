package dev.certknock.server.firewall.nftables;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One element to add or refresh, with its timing: {@code timeout} is the element's nominal lifetime
 * and {@code expires} the time it has left (both given, so re-adding an existing element refreshes it:
 * the kernel ignores a repeated {@code timeout} alone). The comment, when not null, tags the element
 * with the certificate that opened it; it is limited to a safe alphabet because it goes into a script.
 */
public record NftEntry(NftElement element, Duration timeout, Duration expires, String comment) {

    private static final Pattern SAFE_COMMENT = Pattern.compile("[A-Za-z0-9 =._:-]{1,120}");

    public NftEntry {
        Objects.requireNonNull(element, "element");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(expires, "expires");
        if (expires.toMillis() < 1) {
            throw new IllegalArgumentException("an element must expire at least 1 ms from now, not " + expires);
        }
        if (timeout.compareTo(expires) < 0) {
            throw new IllegalArgumentException("timeout " + timeout + " is shorter than expires " + expires);
        }
        if (comment != null && !SAFE_COMMENT.matcher(comment).matches()) {
            throw new IllegalArgumentException("element comment has characters outside [A-Za-z0-9 =._:-] or is too long");
        }
    }
}
