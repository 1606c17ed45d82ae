package dev.certknock.server.grant;

import dev.certknock.protocol.grant.PortGrant;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * Holders for tests that have no real chain: the leaf is issued by a CA whose key id is derived from the issuer's
 * name (so two test issuers differ, and the same issuer always gives the same id).
 */
public final class TestHolders {

    private TestHolders() {
    }

    /** A stand-in CA key id for a CA of this name. */
    public static String keyIdFor(X500Principal issuer) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(issuer.getEncoded());
            return HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static CertRef ref(X500Principal issuer, BigInteger serial) {
        return new CertRef(keyIdFor(issuer), serial);
    }

    public static Set<CertRef> refs(X500Principal issuer, Set<BigInteger> serials) {
        Set<CertRef> out = new HashSet<>();
        serials.forEach(s -> out.add(ref(issuer, s)));
        return out;
    }

    /** A holder whose path is the leaf alone (issued directly by the anchor). */
    public static Holder holder(X500Principal subject, X500Principal issuer, BigInteger serial) {
        return new Holder(subject, issuer, List.of(ref(issuer, serial)));
    }

    /** The decision as tests wrote it before holders had paths. */
    public static GrantDecision decision(InetAddress address, List<PortGrant> grants, Duration duration, Instant openedAt,
            X500Principal subject, X500Principal issuer, BigInteger serial) {
        return new GrantDecision(address, grants, duration, openedAt, holder(subject, issuer, serial));
    }
}
