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

    /** The exact UDP payload that {@link KnockClient#send} sends first. */
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

    public KnockVersion version() {
        return sealed.version();
    }

    /** Where the declared address came from. */
    public AddressOrigin addressOrigin() {
        return addressOrigin;
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
