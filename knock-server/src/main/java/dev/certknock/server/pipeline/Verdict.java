package dev.certknock.server.pipeline;

import java.net.InetSocketAddress;

/** The pipeline's answer for one datagram (never sent anywhere: the server never replies). */
public sealed interface Verdict {

    InetSocketAddress source();

    record Accepted(InetSocketAddress source, GrantDecision decision) implements Verdict {
    }

    record Dropped(InetSocketAddress source, DropReason reason, String detail, String stage) implements Verdict {
    }
}
