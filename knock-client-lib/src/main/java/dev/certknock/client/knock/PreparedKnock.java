package dev.certknock.client.knock;

import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.SealedKnock;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * A validated, sealed knock not sent yet: {@link KnockClient#send} sends it. Send it promptly, since the server
 * accepts a knock only within its timestamp window. Immutable; {@link #datagram()} returns a copy.
 */
public final class PreparedKnock {

    private final SealedKnock sealed;
    private final InetSocketAddress resolvedTarget;

    PreparedKnock(SealedKnock sealed, InetSocketAddress resolvedTarget) {
        this.sealed = sealed;
        this.resolvedTarget = resolvedTarget;
    }

    /** The exact UDP payload that {@link KnockClient#send} sends. */
    public byte[] datagram() {
        return sealed.datagram();
    }

    public int size() {
        return sealed.size();
    }

    /** UTC milliseconds since the epoch, as sealed. */
    public long timestampMillis() {
        return sealed.timestampMillis();
    }

    public KnockRequest request() {
        return sealed.request();
    }

    /** The server's key id (hex), as written in the datagram's header. */
    public String serverKeyId() {
        return sealed.serverKey().keyIdHex();
    }

    /** The server address, when preparing had to resolve it (to discover the route's local address). */
    public Optional<InetSocketAddress> resolvedTarget() {
        return Optional.ofNullable(resolvedTarget);
    }

    @Override
    public String toString() {
        return "PreparedKnock[" + sealed + "]";
    }
}
