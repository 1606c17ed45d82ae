package dev.certknock.server.knock;

import dev.certknock.server.grant.GrantDecision;

import java.net.InetSocketAddress;

/**
 * The pipeline's verdict on one datagram: for the counters and logs, never sent (what an authenticated v2 knock
 * is told goes through {@link Replier}).
 */
public sealed interface Verdict {

    InetSocketAddress source();

    record Accepted(InetSocketAddress source, GrantDecision decision) implements Verdict {
    }

    record Dropped(InetSocketAddress source, DropReason reason, String detail, String stage) implements Verdict {
    }
}
