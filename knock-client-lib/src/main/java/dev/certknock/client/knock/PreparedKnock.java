package dev.certknock.client.knock;

import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockVersion;
import dev.certknock.protocol.knock.SealedKnock;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * A validated, sealed knock not sent yet: {@link KnockClient#send} sends it (and waits for the reply as its
 * options say). Send it promptly, since the server accepts a knock only within its timestamp window. Immutable;
 * {@link #datagram()} returns a copy.
 */
public final class PreparedKnock {

    private final SealedKnock sealed;
    private final InetSocketAddress resolvedTarget;
    private final AddressOrigin addressOrigin;
    private final KnockOptions options;

    PreparedKnock(SealedKnock sealed, InetSocketAddress resolvedTarget, AddressOrigin addressOrigin,
            KnockOptions options) {
        this.sealed = sealed;
        this.resolvedTarget = resolvedTarget;
        this.addressOrigin = addressOrigin;
        this.options = options;
    }

    SealedKnock sealed() {
        return sealed;
    }

    KnockOptions options() {
        return options;
    }

    /**
     * The exact UDP payload that {@link KnockClient#send} sends first.
     *
     * @return the datagram (a copy)
     */
    public byte[] datagram() {
        return sealed.datagram();
    }

    /**
     * The datagram's size.
     *
     * @return bytes of the UDP payload, at most 1232
     */
    public int size() {
        return sealed.size();
    }

    /**
     * The sealed timestamp.
     *
     * @return UTC milliseconds since the epoch, as sealed
     */
    public long timestampMillis() {
        return sealed.timestampMillis();
    }

    /**
     * What the knock asks for.
     *
     * @return grants, duration and declared addresses
     */
    public KnockRequest request() {
        return sealed.request();
    }

    /**
     * The protocol version sealed.
     *
     * @return v1 or v2
     */
    public KnockVersion version() {
        return sealed.version();
    }

    /**
     * Where the declared address came from.
     *
     * @return given, cached, the route's, or none
     */
    public AddressOrigin addressOrigin() {
        return addressOrigin;
    }

    /**
     * The server's key id, as written in the datagram's header.
     *
     * @return the key id in hex
     */
    public String serverKeyId() {
        return sealed.serverKey().keyIdHex();
    }

    /**
     * The server address, when preparing had to resolve it (to discover the route's local address).
     *
     * @return the resolved address and knock port, or empty
     */
    public Optional<InetSocketAddress> resolvedTarget() {
        return Optional.ofNullable(resolvedTarget);
    }

    @Override
    public String toString() {
        return "PreparedKnock[" + sealed + "]";
    }
}
