package dev.certknock.server.capture.pcap;

/**
 * Figures of a {@link PcapCapture}. The kernel figures come from {@code pcap_stats} and add up over every
 * handle the capture has opened (a reopen starts libpcap's counters again; they are carried over here).
 *
 * @param frames           frames handed to us by libpcap (after the BPF filter)
 * @param delivered        knock datagrams handed to the sink
 * @param refusedBySink    of those, the ones the sink refused (returned false or threw)
 * @param skipped          frames the parser skipped, all reasons together
 * @param kernelReceived   {@code ps_recv}: packets that passed the filter in the kernel. On Linux this counts
 *                         before the direction check, so on {@code lo} it is about twice {@code frames}
 * @param kernelDropped    {@code ps_drop}: dropped because the capture buffer was full
 * @param interfaceDropped {@code ps_ifdrop}: dropped by the interface or driver (0 where not reported)
 * @param reopens          times the capture was opened again after a failure
 * @param capturing        whether a capture handle is open right now
 */
public record CaptureStats(long frames, long delivered, long refusedBySink, long skipped, long kernelReceived,
        long kernelDropped, long interfaceDropped, long reopens, boolean capturing) {
}
