package dev.certknock.protocol.knock;

import java.util.Optional;

/**
 * A knock ready to send: the datagram and what went into it. The datagram is copied in and out. A v2 knock
 * also holds the key of its reply (never exposed): {@link #openReply} reads what the server answers.
 */
public final class SealedKnock {

    private final byte[] datagram;
    private final long timestampMillis;
    private final KnockRequest request;
    private final ServerPublicKey serverKey;
    private final KnockVersion version;
    private final ReplyKey replyKey;

    SealedKnock(byte[] datagram, long timestampMillis, KnockRequest request, ServerPublicKey serverKey,
            KnockVersion version, ReplyKey replyKey) {
        this.version = version;
        this.replyKey = replyKey;
        this.datagram = datagram;
        this.timestampMillis = timestampMillis;
        this.request = request;
        this.serverKey = serverKey;
    }

    public byte[] datagram() {
        return datagram.clone();
    }

    public int size() {
        return datagram.length;
    }

    /** UTC milliseconds since the epoch, as sealed in the packet. */
    public long timestampMillis() {
        return timestampMillis;
    }

    public KnockRequest request() {
        return request;
    }

    public ServerPublicKey serverKey() {
        return serverKey;
    }

    public KnockVersion version() {
        return version;
    }

    /**
     * Reads a datagram received in answer to this knock: the reply, or empty when it is not a reply sealed
     * for this knock (anything else that reaches the socket, a forgery, another knock's reply, or a v1 knock,
     * which is never answered). Never throws for bad input.
     */
    public Optional<KnockReply> openReply(byte[] buffer, int offset, int length) {
        if (replyKey == null || offset < 0 || length < 0 || length > buffer.length - offset) {
            return Optional.empty();
        }
        return replyKey.open(buffer, offset, length).flatMap(ReplyPlaintext::decode);
    }

    @Override
    public String toString() {
        return "SealedKnock[" + datagram.length + " bytes, " + request.grants() + " for " + request.durationSeconds()
                + " s, to key " + serverKey.keyIdHex() + "]";
    }
}
