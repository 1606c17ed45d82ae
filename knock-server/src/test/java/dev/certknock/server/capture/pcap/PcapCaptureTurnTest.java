package dev.certknock.server.capture.pcap;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the capture thread's stack says about its liveness (PcapCaptureLivenessIT checks it on a live thread). */
class PcapCaptureTurnTest {

    private static StackTraceElement java(String cls, String method) {
        return new StackTraceElement(cls, method, cls + ".java", 10);
    }

    private static StackTraceElement nativ(String cls, String method) {
        return new StackTraceElement(cls, method, null, -2); // -2: a native method
    }

    private static final StackTraceElement LOOP = nativ("org.pcap4j.core.NativeMappings", "pcap_loop");
    private static final StackTraceElement OURS_BELOW = java("dev.certknock.server.capture.pcap.PcapCapture", "run");

    @Test
    void waitingInsideLibpcapIsALiveTurn() {
        assertThat(PcapCapture.insideLibpcapOutsideOurCode(new StackTraceElement[] {LOOP, OURS_BELOW})).isTrue();
    }

    @Test
    void pcap4jAndJnaHandlingAFrameBeforeOurCodeIsALiveTurn() {
        // the first frame of a process: pcap4j's callback adapter and JNA, before onFrame counts the turn
        assertThat(PcapCapture.insideLibpcapOutsideOurCode(new StackTraceElement[] {
            nativ("com.sun.jna.Native", "read"),
            java("com.sun.jna.Pointer", "getByteArray"),
            java("org.pcap4j.core.PcapHandle$GotRawPacketFuncExecutor", "got_packet"),
            java("com.sun.jna.CallbackReference$DefaultCallbackProxy", "invokeCallback"),
            LOOP, OURS_BELOW})).isTrue();
        assertThat(PcapCapture.insideLibpcapOutsideOurCode(new StackTraceElement[] {
            java("org.pcap4j.core.PcapHandle$GotRawPacketFuncExecutor", "got_packet"),
            LOOP, OURS_BELOW})).isTrue();
    }

    @Test
    void ourCodeAboveTheReadIsNotATurnByItself() {
        // held in the sink (or any of our code called back from libpcap): the last turn counts, which goes stale
        assertThat(PcapCapture.insideLibpcapOutsideOurCode(new StackTraceElement[] {
            nativ("jdk.internal.misc.Unsafe", "park"),
            java("dev.certknock.server.dispatch.KnockDispatcher", "offer"),
            java("dev.certknock.server.capture.pcap.PcapCapture", "onFrame"),
            java("org.pcap4j.core.PcapHandle$GotRawPacketFuncExecutor", "got_packet"),
            LOOP, OURS_BELOW})).isFalse();
        // and a thread in our own code outside libpcap (reopening, backing off) neither
        assertThat(PcapCapture.insideLibpcapOutsideOurCode(new StackTraceElement[] {
            nativ("java.lang.Thread", "sleep"), OURS_BELOW})).isFalse();
    }
}
