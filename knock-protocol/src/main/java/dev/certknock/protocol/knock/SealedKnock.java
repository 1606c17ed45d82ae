package dev.certknock.protocol.knock;

/**
 * A knock ready to send: the datagram and what went into it. The datagram is copied in and out.
 */
public final class SealedKnock {

    private final byte[] datagram;
    private final long timestampMillis;
    private final KnockRequest request;
    private final ServerPublicKey serverKey;

    SealedKnock(byte[] datagram, long timestampMillis, KnockRequest request, ServerPublicKey serverKey) {
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

    @Override
    public String toString() {
        return "SealedKnock[" + datagram.length + " bytes, " + request.grants() + " for " + request.durationSeconds()
                + " s, to key " + serverKey.keyIdHex() + "]";
    }
}
