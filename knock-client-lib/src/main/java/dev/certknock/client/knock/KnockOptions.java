package dev.certknock.client.knock;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * How to knock, beyond the grants: for how long, and which address to declare.
 *
 * @param durationSeconds requested open time; empty: {@value #DEFAULT_DURATION_SECONDS} s, or the certificate's
 *     maxOpenSeconds when that is lower
 * @param declaredAddresses addresses to declare (at most one IPv4 and one IPv6): the server may open the ports
 *     for them instead of the packet's source address, by its policy
 * @param declareRouteAddress also declare the local address of the route to the server (see docs/CLIENT.md)
 */
public record KnockOptions(OptionalInt durationSeconds, List<InetAddress> declaredAddresses,
        boolean declareRouteAddress) {

    /** The duration asked for when none is given (capped by the certificate's maxOpenSeconds). */
    public static final int DEFAULT_DURATION_SECONDS = 60;

    public KnockOptions {
        Objects.requireNonNull(durationSeconds, "durationSeconds");
        declaredAddresses = List.copyOf(declaredAddresses);
    }

    /** Default duration, nothing declared: the server opens the ports for the packet's source address. */
    public static KnockOptions defaults() {
        return new KnockOptions(OptionalInt.empty(), List.of(), false);
    }

    public KnockOptions withDurationSeconds(int seconds) {
        return new KnockOptions(OptionalInt.of(seconds), declaredAddresses, declareRouteAddress);
    }

    public KnockOptions withDeclaredAddress(InetAddress address) {
        List<InetAddress> all = new ArrayList<>(declaredAddresses);
        all.add(Objects.requireNonNull(address, "address"));
        return new KnockOptions(durationSeconds, all, declareRouteAddress);
    }

    /** Declare the local address the kernel would send to the server from (no packet is sent to find it). */
    public KnockOptions withRouteAddressDeclared() {
        return new KnockOptions(durationSeconds, declaredAddresses, true);
    }
}
