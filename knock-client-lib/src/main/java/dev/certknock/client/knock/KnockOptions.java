package dev.certknock.client.knock;

import dev.certknock.protocol.knock.KnockVersion;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * How to knock, beyond the grants: for how long, which address to declare, which protocol version, and whether
 * and how long to wait for the server's reply.
 *
 * @param durationSeconds requested open time; empty: {@value #DEFAULT_DURATION_SECONDS} s, or the certificate's
 *     maxOpenSeconds when that is lower
 * @param declaredAddresses addresses to declare (at most one IPv4 and one IPv6); empty: knock v2 declares the
 *     address last learned from this server for this route, else the route's local address (see
 *     {@link KnockClient}); knock v1 declares nothing
 * @param version {@link KnockVersion#V2} (the default), or {@link KnockVersion#V1} for a legacy server: then
 *     nothing is declared unless given, and no reply is awaited (a v1 server never answers)
 * @param awaitReply whether to wait for the server's reply (knock v2 only); false: fire and forget
 * @param replyTimeout how long to wait for a reply after each knock
 */
public record KnockOptions(OptionalInt durationSeconds, List<InetAddress> declaredAddresses, KnockVersion version,
        boolean awaitReply, Duration replyTimeout) {

    /** The duration asked for when none is given (capped by the certificate's maxOpenSeconds). */
    public static final int DEFAULT_DURATION_SECONDS = 60;

    /** How long to wait for the server's reply unless told otherwise. */
    public static final Duration DEFAULT_REPLY_TIMEOUT = Duration.ofSeconds(1);

    /** The longest reply timeout accepted: the server's timestamp window is 30 s by default. */
    public static final Duration MAX_REPLY_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Checks the components.
     *
     * @param durationSeconds the open time asked for, empty for the default
     * @param declaredAddresses addresses to declare (at most one per family)
     * @param version the protocol version
     * @param awaitReply whether to wait for the server's reply
     * @param replyTimeout how long to wait for a reply, more than 0 and at most {@link #MAX_REPLY_TIMEOUT}
     */
    public KnockOptions {
        Objects.requireNonNull(durationSeconds, "durationSeconds");
        Objects.requireNonNull(declaredAddresses, "declaredAddresses");
        declaredAddresses = List.copyOf(declaredAddresses);
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(replyTimeout, "replyTimeout");
        if (replyTimeout.isNegative() || replyTimeout.isZero() || replyTimeout.compareTo(MAX_REPLY_TIMEOUT) > 0) {
            throw new IllegalArgumentException("the reply timeout must be more than 0 and at most "
                    + MAX_REPLY_TIMEOUT.toSeconds() + " s, not " + replyTimeout);
        }
    }

    /**
     * Knock v2, default duration, the address chosen by the client, waiting up to 1 s for the reply.
     *
     * @return the default options
     */
    public static KnockOptions defaults() {
        return new KnockOptions(OptionalInt.empty(), List.of(), KnockVersion.V2, true, DEFAULT_REPLY_TIMEOUT);
    }

    /**
     * Ask for this open time (checked against the certificate's maxOpenSeconds when knocking).
     *
     * @param seconds 1 to 86400
     * @return the new options
     */
    public KnockOptions withDurationSeconds(int seconds) {
        return new KnockOptions(OptionalInt.of(seconds), declaredAddresses, version, awaitReply, replyTimeout);
    }

    /**
     * Declare this address (instead of the one the client would choose, for its family).
     *
     * @param address an IPv4 or IPv6 address inside the certificate's sources
     * @return the new options
     */
    public KnockOptions withDeclaredAddress(InetAddress address) {
        List<InetAddress> all = new ArrayList<>(declaredAddresses);
        all.add(Objects.requireNonNull(address, "address"));
        return new KnockOptions(durationSeconds, all, version, awaitReply, replyTimeout);
    }

    /**
     * Speak this protocol version: {@link KnockVersion#V1} only for a server that still accepts it.
     *
     * @param v the version
     * @return the new options
     */
    public KnockOptions withVersion(KnockVersion v) {
        Objects.requireNonNull(v, "version");
        return new KnockOptions(durationSeconds, declaredAddresses, v, awaitReply, replyTimeout);
    }

    /**
     * Send and return at once, without waiting for the server's reply (fire and forget).
     *
     * @return the new options
     */
    public KnockOptions withoutReply() {
        return new KnockOptions(durationSeconds, declaredAddresses, version, false, replyTimeout);
    }

    /**
     * Wait up to this long for the server's reply after each knock (1 s unless set; at most 30 s).
     *
     * @param timeout more than 0, at most {@link #MAX_REPLY_TIMEOUT}
     * @return the new options
     */
    public KnockOptions withReplyTimeout(Duration timeout) {
        return new KnockOptions(durationSeconds, declaredAddresses, version, awaitReply, timeout);
    }

    /**
     * Whether a knock with these options waits for a reply.
     *
     * @return true for v2 and not fire and forget
     */
    public boolean waitsForReply() {
        return awaitReply && version.bindsAddress();
    }
}
