package dev.certknock.protocol.knock;

import java.security.SecureRandom;
import java.util.Objects;
import java.util.Optional;

/**
 * Seals a server's {@link KnockReply} to the sender of a verified v2 knock. Only a {@link VerifiedKnock} can be
 * answered, so nothing unauthenticated ever gets a reply; a v1 knock never does. Thread-safe.
 */
public final class ReplySealer {

    private final SecureRandom random;

    /** @param random the randomness for reply nonces; use a new {@link SecureRandom} outside tests */
    public ReplySealer(SecureRandom random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    /** The reply datagram (61 bytes at most: always smaller than the knock), or empty for a v1 knock. */
    public Optional<byte[]> seal(VerifiedKnock knock, KnockReply reply) {
        Objects.requireNonNull(reply, "reply");
        ReplyKey key = knock.replyKey();
        if (key == null) {
            return Optional.empty();
        }
        byte[] nonce = new byte[KnockFormat.REPLY_NONCE_SIZE];
        synchronized (random) {
            random.nextBytes(nonce);
        }
        return Optional.of(key.seal(ReplyPlaintext.encode(reply), nonce));
    }
}
