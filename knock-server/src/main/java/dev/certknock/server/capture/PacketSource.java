package dev.certknock.server.capture;

import dev.certknock.server.pipeline.ReceivedDatagram;
import java.io.IOException;
import java.util.function.Predicate;

/**
 * Where knock datagrams come from: a UDP socket here, pcap with the network-edge issue. A source
 * hands each datagram to the sink and never blocks on it; it never sends anything.
 */
public interface PacketSource extends AutoCloseable {

    /** Starts delivering datagrams to the sink (false = dropped by the sink) on a thread of its own. */
    void start(Predicate<ReceivedDatagram> sink) throws IOException;

    /** Datagrams received so far. */
    long received();

    @Override
    void close();
}
