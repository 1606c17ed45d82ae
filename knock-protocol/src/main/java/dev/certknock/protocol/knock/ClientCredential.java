package dev.certknock.protocol.knock;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * What a client signs knocks with: a signer for its private key and its certificate chain, leaf first,
 * optionally followed by intermediates (not the root, which the server already trusts).
 */
public record ClientCredential(KnockSigner signer, List<X509Certificate> chain) {

    public ClientCredential {
        Objects.requireNonNull(signer, "signer");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("the certificate chain is empty: it must start with the client certificate");
        }
        if (chain.size() > KnockFormat.MAX_CERTIFICATES) {
            throw new IllegalArgumentException("the certificate chain has " + chain.size()
                    + " certificates; a knock carries at most " + KnockFormat.MAX_CERTIFICATES
                    + " (leaf and intermediates, never the root)");
        }
        SignatureScheme certScheme = SignatureScheme.of(chain.get(0).getPublicKey());
        if (certScheme == null) {
            throw new IllegalArgumentException(
                    "the client certificate's key is neither EC P-256 nor Ed25519, so it cannot sign knocks");
        }
        if (certScheme != signer.scheme()) {
            throw new IllegalArgumentException("the signer uses " + signer.scheme()
                    + " but the client certificate's key is " + certScheme);
        }
        for (X509Certificate c : chain) {
            try {
                c.getEncoded();
            } catch (CertificateEncodingException e) {
                throw new IllegalArgumentException("a certificate of the chain cannot be encoded", e);
            }
        }
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }
}
