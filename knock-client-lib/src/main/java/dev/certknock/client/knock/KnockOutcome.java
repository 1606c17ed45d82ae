package dev.certknock.client.knock;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/** What the server said about a sent knock. */
public sealed interface KnockOutcome permits KnockOutcome.Confirmed, KnockOutcome.Unconfirmed, KnockOutcome.NotWaited {

    /**
     * The server replied that the grants are open.
     *
     * @param openSeconds how long the server opened them for (it may shorten the request)
     * @param observedSource the knock's source address and port as the server saw them: the address the grants
     *     are open for
     * @param clockOffset the server's clock minus this host's (estimated at the midpoint of knock and reply)
     */
    record Confirmed(int openSeconds, InetSocketAddress observedSource, Duration clockOffset) implements KnockOutcome {
        /**
         * Checks the components.
         *
         * @param openSeconds how long the server opened the grants for
         * @param observedSource the knock's source as the server saw it
         * @param clockOffset the server's clock minus this host's
         */
        public Confirmed {
            Objects.requireNonNull(observedSource, "observedSource");
            Objects.requireNonNull(clockOffset, "clockOffset");
        }
    }

    /**
     * No reply within the reply timeout: the knock was sent, but nothing says it was accepted. A v1 server never
     * replies; a v2 server does not reply to a knock it refuses (not permitted, outside its timestamp window,
     * replayed); or the knock or its reply was lost.
     *
     * @param waited how long the client waited after the last knock
     * @param portUnreachable the server's host reported that nothing listens on the knock port (an ICMP error,
     *     which is unauthenticated: a hint, not proof)
     */
    record Unconfirmed(Duration waited, boolean portUnreachable) implements KnockOutcome {
        /**
         * Checks the components.
         *
         * @param waited how long the client waited
         * @param portUnreachable whether an ICMP port-unreachable arrived
         */
        public Unconfirmed {
            Objects.requireNonNull(waited, "waited");
        }
    }

    /** The client did not wait for a reply: fire and forget, or knock v1. */
    record NotWaited() implements KnockOutcome {
    }
}
