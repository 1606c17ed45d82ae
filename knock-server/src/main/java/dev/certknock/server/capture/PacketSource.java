package dev.certknock.server.capture;

import dev.certknock.server.knock.ReceivedDatagram;
import java.io.IOException;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Where knock datagrams come from: a UDP socket or a pcap capture. A source hands each datagram to the sink
 * and never blocks on it. It sends nothing itself (replies to authenticated knocks go through
 * {@link dev.certknock.server.reply.KnockReplies}).
 */
public interface PacketSource extends AutoCloseable {

    /** Starts delivering datagrams to the sink (false = dropped by the sink) on a thread of its own. */
    void start(Predicate<ReceivedDatagram> sink) throws IOException;

    /** Datagrams received so far. */
    long received();

    /**
     * The source's figures by name, in a stable order, for the server's periodic statistics line (the
     * kernel's capture drops among them, where the source has any).
     */
    default Map<String, Long> figures() {
        return Map.of("received", received());
    }

    /**
     * {@link System#nanoTime()} when the capture thread last came round its loop (a datagram handled, a wait for
     * one that timed out, a reopen attempt), or now while it waits for a datagram in a call that is known to be
     * waiting (see the implementations). What the systemd watchdog's liveness check reads
     * ({@code dev.certknock.server.systemd.Liveness}): it stops moving when the thread ends or hangs in our code.
     */
    long lastTurnNanos();

    @Override
    void close();
}
