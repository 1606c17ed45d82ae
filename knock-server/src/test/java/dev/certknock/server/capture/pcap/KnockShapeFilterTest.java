package dev.certknock.server.capture.pcap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.certknock.protocol.knock.KnockFormat;
import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockRejectedException;
import dev.certknock.protocol.knock.KnockSuite;
import dev.certknock.protocol.knock.RejectReason;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.pcap4j.core.BpfProgram;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

/**
 * The capture filter the capture installs, compiled by libpcap and run on hand-built frames (pcap_offline_filter, no
 * privileges): it lets through exactly the version and suite bytes the frame check reads, and every
 * length the frame check accepts, and drops what cannot be a knock before it leaves the kernel.
 */
class KnockShapeFilterTest {

    private static BpfProgram program;

    @BeforeAll
    static void compile() throws Exception {
        String version;
        try {
            version = Pcaps.libVersion();
        } catch (LinkageError e) {
            version = "";
        }
        assumeThat(version).as("needs libpcap to compile filters").startsWith("libpcap");
        program = Pcaps.compileFilter(PcapCapture.Settings.DEFAULT_SNAPLEN, DataLinkType.EN10MB,
                PcapCapture.Settings.of("eth0", Frames.PORT).filter(), BpfProgram.BpfCompileMode.OPTIMIZE, PcapHandle.PCAP_NETMASK_UNKNOWN);
    }

    @AfterAll
    static void free() {
        if (program != null) {
            program.free();
        }
    }

    private static byte[] overIpv4(byte[] payload, int port) {
        return Frames.ethernet(0x0800, Frames.ipv4("198.51.100.7", "192.0.2.1", 17, Frames.udp(40000, port, payload)));
    }

    private static byte[] overIpv6(byte[] payload, int port) {
        return Frames.ethernet(0x86DD, Frames.ipv6("2001:db8::7", "2001:db8::1", 17, Frames.udp(40000, port, payload)));
    }

    private static boolean passes(Function<byte[], byte[]> frame, byte[] payload) {
        return program.applyFilter(frame.apply(payload));
    }

    private static byte[] payload(int length, int version, int suite) {
        byte[] p = new byte[length];
        if (length > 1) {
            p[0] = (byte) version;
            p[1] = (byte) suite;
        }
        return p;
    }

    /** What the frame check says of the payload: null if it reads it as a frame. */
    private static RejectReason frameCheck(byte[] payload) {
        try {
            KnockFrame.parse(payload);
            return null;
        } catch (KnockRejectedException e) {
            return e.reason();
        }
    }

    @Test
    void exactlyTheVersionAndSuiteBytesTheFrameCheckReadsPass() {
        int passed = 0;
        for (int v = 0; v < 256; v++) {
            for (int s = 0; s < 256; s++) {
                byte[] p = payload(600, v, s);
                RejectReason r = frameCheck(p);
                boolean readable = r != RejectReason.UNSUPPORTED_VERSION && r != RejectReason.UNSUPPORTED_SUITE;
                assertThat(passes(d -> overIpv4(d, Frames.PORT), p)).as("IPv4, version %d suite %d", v, s).isEqualTo(readable);
                assertThat(passes(d -> overIpv6(d, Frames.PORT), p)).as("IPv6, version %d suite %d", v, s).isEqualTo(readable);
                passed += readable ? 1 : 0;
            }
        }
        assertThat(passed).isEqualTo(KnockShapeFilter.VERSIONS.size() * KnockSuite.values().length);
    }

    @Test
    void everyLengthTheFrameCheckAcceptsPassesAndWhatCannotBeAKnockDoesNot() {
        for (KnockSuite suite : KnockSuite.values()) {
            for (int length = 0; length <= 1400; length++) {
                byte[] p = payload(length, KnockFormat.VERSION_1, suite.wireId());
                boolean inRange = length >= KnockShapeFilter.MIN_PAYLOAD && length <= KnockFormat.MAX_DATAGRAM_SIZE;
                assertThat(passes(d -> overIpv4(d, Frames.PORT), p)).as("IPv4, %d bytes", length).isEqualTo(inRange);
                assertThat(passes(d -> overIpv6(d, Frames.PORT), p)).as("IPv6, %d bytes", length).isEqualTo(inRange);
                if (frameCheck(p) == null) {
                    assertThat(inRange).as("the frame check accepts %d bytes of suite %s", length, suite).isTrue();
                }
            }
        }
    }

    @Test
    void anotherPortDoesNotPass() {
        byte[] p = payload(600, KnockFormat.VERSION_1, KnockSuite.P256_SHA256_AES128GCM.wireId());
        assertThat(passes(d -> overIpv4(d, Frames.PORT), p)).isTrue();
        assertThat(passes(d -> overIpv4(d, Frames.PORT + 1), p)).isFalse();
        assertThat(passes(d -> overIpv6(d, Frames.PORT + 1), p)).isFalse();
    }
}
