package dev.certknock.server.knock;

import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockRejectedException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Objects;

/** A datagram as captured: its bytes (copied), where it came from and when it arrived. */
public final class ReceivedDatagram {

    private final byte[] bytes;
    private final InetSocketAddress source;
    private final Instant receivedAt;

    public ReceivedDatagram(byte[] bytes, int offset, int length, InetSocketAddress source, Instant receivedAt) {
        this.bytes = java.util.Arrays.copyOfRange(bytes, offset, offset + length);
        this.source = Objects.requireNonNull(source, "source");
        this.receivedAt = Objects.requireNonNull(receivedAt, "receivedAt");
    }

    public static ReceivedDatagram of(byte[] bytes, InetSocketAddress source, Instant receivedAt) {
        return new ReceivedDatagram(bytes, 0, bytes.length, source, receivedAt);
    }

    /** A copy of the bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    byte[] bytesUnsafe() {
        return bytes;
    }

    /** Parses the bytes as a knock frame, without copying them (the frame keeps no reference to them either). */
    public KnockFrame parseFrame() throws KnockRejectedException {
        return KnockFrame.parse(bytes, 0, bytes.length);
    }

    public int length() {
        return bytes.length;
    }

    public InetSocketAddress source() {
        return source;
    }

    public Instant receivedAt() {
        return receivedAt;
    }
}
