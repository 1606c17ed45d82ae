package dev.certknock.server.grant;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * Who holds a grant: the leaf certificate and every CA certificate between it and the trust anchor (not the
 * anchor, which no CRL revokes), each as a CRL names it. A revocation of any of them closes the grant.
 *
 * @param subject the leaf's subject (for logs and the audit trail)
 * @param issuer  the leaf's issuer name (for logs and the audit trail)
 * @param path    the leaf first, then each intermediate CA certificate towards the anchor; at most
 *                {@value #MAX_PATH}
 */
public record Holder(X500Principal subject, X500Principal issuer, List<CertRef> path) {

    /** The longest path held: a leaf and up to 4 intermediates (the chain validator's limit), with room to spare. */
    public static final int MAX_PATH = 6;

    public Holder {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(issuer, "issuer");
        path = List.copyOf(path);
        if (path.isEmpty() || path.size() > MAX_PATH) {
            throw new IllegalArgumentException("a holder's path has 1 to " + MAX_PATH + " certificates, not " + path.size());
        }
    }

    /** The leaf certificate: what the per-certificate limits count against. */
    public CertRef leaf() {
        return path.get(0);
    }

    public BigInteger serial() {
        return leaf().serial();
    }

    /** The tag of each certificate of the path, leaf first (see {@link CertRef#tag()}). */
    public List<String> tags() {
        List<String> tags = new ArrayList<>(path.size());
        path.forEach(r -> tags.add(r.tag()));
        return tags;
    }

    /** Whether any certificate of the path has one of these tags. */
    public boolean heldUnderAny(Set<String> tags) {
        for (CertRef r : path) {
            if (tags.contains(r.tag())) {
                return true;
            }
        }
        return false;
    }
}
