package dev.certknock.protocol.knock;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * What a server tells the sender of an authenticated v2 knock, sealed so that only that sender can read it
 * (see {@link ReplySealer} and {@link SealedKnock#openReply}). Every reply carries the server's clock and
 * the source address and port the server saw, so the client learns its address behind NAT and its clock
 * offset.
 */
public sealed interface KnockReply permits KnockReply.Opened, KnockReply.AddressNotSigned {

    /** The server's wall clock when it answered: UTC milliseconds since the epoch. */
    long serverTimeMillis();

    /** The source address and port of the knock as the server saw them. */
    InetSocketAddress observedSource();

    /** The grants are open for {@code observedSource}'s address for {@code openSeconds}. */
    record Opened(long serverTimeMillis, InetSocketAddress observedSource, int openSeconds) implements KnockReply {
        public Opened {
            requireValid(serverTimeMillis, observedSource);
            if (openSeconds < KnockFormat.MIN_DURATION_SECONDS || openSeconds > KnockFormat.MAX_DURATION_SECONDS) {
                throw new IllegalArgumentException("open time " + openSeconds + " s is outside 1-86400 seconds");
            }
        }
    }

    /**
     * Nothing was opened: the knock is valid in every other respect, but it came from an address it does not
     * declare (a client behind NAT that knows only its private address, or a copy of the knock re-sent by
     * someone else). Knock again declaring {@code observedSource}'s address.
     */
    record AddressNotSigned(long serverTimeMillis, InetSocketAddress observedSource) implements KnockReply {
        public AddressNotSigned {
            requireValid(serverTimeMillis, observedSource);
        }
    }

    private static void requireValid(long serverTimeMillis, InetSocketAddress source) {
        Objects.requireNonNull(source, "observedSource");
        if (serverTimeMillis < 0) {
            throw new IllegalArgumentException("server time before 1970");
        }
        if (source.isUnresolved()) {
            throw new IllegalArgumentException("the observed source must be an address, not a name");
        }
    }
}
