package dev.certknock.server.trust;

import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The server's trust anchors and the intermediate CA certificates it holds. Immutable. */
public record TrustStore(List<X509Certificate> anchors, List<X509Certificate> intermediates) {

    public TrustStore {
        anchors = List.copyOf(anchors);
        intermediates = List.copyOf(intermediates);
        if (anchors.isEmpty()) {
            throw new IllegalArgumentException("at least one trust anchor is needed");
        }
    }

    Set<TrustAnchor> trustAnchors() {
        Set<TrustAnchor> set = new HashSet<>();
        for (X509Certificate a : anchors) {
            set.add(new TrustAnchor(a, null));
        }
        return set;
    }

    /** Every CA certificate the server knows: anchors and intermediates (the issuers whose CRLs it needs). */
    public List<X509Certificate> caCertificates() {
        return java.util.stream.Stream.concat(anchors.stream(), intermediates.stream()).toList();
    }
}
