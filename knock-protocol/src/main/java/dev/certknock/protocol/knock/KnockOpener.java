package dev.certknock.protocol.knock;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.crypto.hpke.HPKEContext;

/**
 * Opens knocks sealed to any of a server's keys (several during key rotation). Each step is exposed so a
 * server can put its own checks between them, cheapest first:
 * <ol>
 *   <li>{@link KnockFrame#parse}: size, version, suite (no cryptography);</li>
 *   <li>{@link #open(KnockFrame)}: key look-up by id, HPKE open, strict parse (one DH);</li>
 *   <li>{@link UnverifiedKnock#verify()}: the client's signature (one signature check).</li>
 * </ol>
 * {@link #openAndVerify} and {@link #tryOpen} run all three. For any input, the only exception is
 * {@link KnockRejectedException}. Immutable and thread-safe.
 */
public final class KnockOpener {

    private final Map<Long, ServerPrivateKey> keys;

    private KnockOpener(Map<Long, ServerPrivateKey> keys) {
        this.keys = keys;
    }

    /**
     * @throws IllegalArgumentException for no keys, or two keys with the same key id
     */
    public static KnockOpener of(Collection<ServerPrivateKey> serverKeys) {
        if (serverKeys.isEmpty()) {
            throw new IllegalArgumentException("a knock opener needs at least one server key");
        }
        Map<Long, ServerPrivateKey> map = new HashMap<>();
        for (ServerPrivateKey k : serverKeys) {
            long id = KnockPlaintext.getLong(k.publicKey().keyId(), 0);
            if (map.putIfAbsent(id, k) != null) {
                throw new IllegalArgumentException("two server keys share the key id " + k.publicKey().keyIdHex()
                        + ": the same key is configured twice");
            }
        }
        return new KnockOpener(Map.copyOf(map));
    }

    public static KnockOpener of(ServerPrivateKey... serverKeys) {
        return of(List.of(serverKeys));
    }

    /** True when the frame is sealed to a key this opener holds, of the frame's suite: no cryptography. */
    public boolean holdsKeyFor(KnockFrame frame) {
        ServerPrivateKey k = keys.get(frame.keyIdAsLong());
        return k != null && k.publicKey().suite() == frame.suite();
    }

    /**
     * HPKE-opens the frame and parses its content strictly. The signature is not checked yet.
     *
     * @throws KnockRejectedException UNKNOWN_SERVER_KEY, DECRYPTION_FAILED, MALFORMED_CONTENT, MALFORMED_CERTIFICATE
     */
    public UnverifiedKnock open(KnockFrame frame) throws KnockRejectedException {
        ServerPrivateKey key = keys.get(frame.keyIdAsLong());
        if (key == null || key.publicKey().suite() != frame.suite()) {
            throw new KnockRejectedException(RejectReason.UNKNOWN_SERVER_KEY, "sealed to a key this server does not hold");
        }
        byte[] prefix = frame.authenticatedPrefix();
        byte[] datagram = frame.datagram();
        byte[] plaintext;
        ReplyKey replyKey;
        try {
            HPKEContext ctx = frame.suite().hpke().setupBaseR(frame.enc(), key.hpkeKeyPair(),
                    frame.protocolVersion().hpkeInfo());
            plaintext = ctx.open(prefix, datagram, prefix.length, datagram.length - prefix.length);
            replyKey = frame.protocolVersion().bindsAddress() ? ReplyKey.exportFrom(ctx) : null;
        } catch (org.bouncycastle.crypto.InvalidCipherTextException | RuntimeException e) {
            // Invalid points, a failed X25519 agreement and a bad tag all end here, alike.
            throw new KnockRejectedException(RejectReason.DECRYPTION_FAILED, "HPKE open failed");
        }
        KnockContent content = KnockPlaintext.decode(frame.protocolVersion(), plaintext);
        return new UnverifiedKnock(frame.protocolVersion(), content, key.publicKey(), prefix, plaintext, replyKey);
    }

    /** All three steps. */
    public VerifiedKnock openAndVerify(byte[] datagram) throws KnockRejectedException {
        return open(KnockFrame.parse(datagram)).verify();
    }

    /** All three steps, as a result value instead of an exception. */
    public OpenResult tryOpen(byte[] datagram) {
        try {
            return new OpenResult.Opened(openAndVerify(datagram));
        } catch (KnockRejectedException e) {
            return new OpenResult.Rejected(e.reason(), e.getMessage());
        }
    }
}
