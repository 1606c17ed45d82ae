package dev.certknock.client.knock;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockVersion;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a sent knock carried, where it went, and what the server said. When the server reported another source
 * address than the one declared, the knock was sealed again declaring that address and sent again from the same
 * socket: the fields describe the last knock sent, {@link #learnedAddresses()} what was learned on the way.
 *
 * @param datagramSize bytes of the (last) UDP payload
 * @param timestampMillis the (last) sealed timestamp, UTC milliseconds since the epoch
 * @param target the resolved server address and knock port
 * @param sourcePort the local UDP port it was sent from (fresh for every {@link KnockClient#send}; the same for the
 *     knocks sent again after an {@code AddressNotSigned} reply)
 * @param grants the grants requested
 * @param durationSeconds the open time requested
 * @param declaredIpv4 the declared IPv4 address, if any
 * @param declaredIpv6 the declared IPv6 address, if any
 * @param version the protocol version
 * @param addressOrigin where the declared address of the first knock came from ({@link AddressOrigin#LEARNED}
 *     only for a resend of {@link KnockClient#awaitOpen} after an earlier knock learned it)
 * @param learnedAddresses the addresses the server reported in {@code AddressNotSigned} replies, in order: each
 *     one caused one more knock
 * @param outcome what the server said about the last knock
 */
public record KnockReceipt(int datagramSize, long timestampMillis, InetSocketAddress target, int sourcePort,
        List<PortGrant> grants, int durationSeconds, Optional<Inet4Address> declaredIpv4,
        Optional<Inet6Address> declaredIpv6, KnockVersion version, AddressOrigin addressOrigin,
        List<InetAddress> learnedAddresses, KnockOutcome outcome) {

    /**
     * Checks the components.
     *
     * @param datagramSize bytes of the (last) UDP payload
     * @param timestampMillis the (last) sealed timestamp
     * @param target the resolved server address and knock port
     * @param sourcePort the local UDP port
     * @param grants the grants requested
     * @param durationSeconds the open time requested
     * @param declaredIpv4 the declared IPv4 address, if any
     * @param declaredIpv6 the declared IPv6 address, if any
     * @param version the protocol version
     * @param addressOrigin where the declared address came from
     * @param learnedAddresses the addresses the server reported, in order
     * @param outcome what the server said
     */
    public KnockReceipt {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(grants, "grants");
        Objects.requireNonNull(learnedAddresses, "learnedAddresses");
        grants = List.copyOf(grants);
        Objects.requireNonNull(declaredIpv4, "declaredIpv4");
        Objects.requireNonNull(declaredIpv6, "declaredIpv6");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(addressOrigin, "addressOrigin");
        learnedAddresses = List.copyOf(learnedAddresses);
        Objects.requireNonNull(outcome, "outcome");
    }

    /**
     * The (last) sealed timestamp.
     *
     * @return {@link #timestampMillis()} as an instant
     */
    public Instant timestamp() {
        return Instant.ofEpochMilli(timestampMillis);
    }

    /**
     * The knocks sent in all.
     *
     * @return one, plus one for each learned address
     */
    public int knocksSent() {
        return 1 + learnedAddresses.size();
    }

    /**
     * Whether the server confirmed the knock.
     *
     * @return true when the server replied that the grants are open
     */
    public boolean confirmed() {
        return outcome instanceof KnockOutcome.Confirmed;
    }

    /**
     * The request the last knock carried: resending it seals a new knock (new nonce, new timestamp).
     *
     * @return grants, duration and declared addresses
     */
    public KnockRequest request() {
        return new KnockRequest(grants, durationSeconds, declaredIpv4, declaredIpv6);
    }
}
