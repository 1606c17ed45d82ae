package dev.certknock.server.capture.pcap;

import static dev.certknock.server.capture.pcap.Frames.PAYLOAD;
import static dev.certknock.server.capture.pcap.Frames.PORT;
import static dev.certknock.server.capture.pcap.Frames.addr;
import static dev.certknock.server.capture.pcap.Frames.concat;
import static dev.certknock.server.capture.pcap.Frames.ethernet;
import static dev.certknock.server.capture.pcap.Frames.ext;
import static dev.certknock.server.capture.pcap.Frames.ipv4;
import static dev.certknock.server.capture.pcap.Frames.ipv6;
import static dev.certknock.server.capture.pcap.Frames.routing;
import static dev.certknock.server.capture.pcap.Frames.sll;
import static dev.certknock.server.capture.pcap.Frames.sll2;
import static dev.certknock.server.capture.pcap.Frames.udp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FrameParserTest {

    private static final String V4_SRC = "192.0.2.10";
    private static final String V4_DST = "192.0.2.1";
    private static final String V6_SRC = "2001:db8::10";
    private static final String V6_DST = "2001:db8::1";
    private static final byte[] UDP_OK = udp(40000, PORT, PAYLOAD);
    private static final byte[] V4_OK = ipv4(V4_SRC, V4_DST, 17, UDP_OK);
    private static final byte[] V6_OK = ipv6(V6_SRC, V6_DST, 17, UDP_OK);

    private static ParseResult parse(LinkType type, byte[] frame) {
        return new FrameParser(type, PORT).parse(frame);
    }

    private static ParseResult.Datagram datagram(ParseResult r) {
        assertThat(r).isInstanceOf(ParseResult.Datagram.class);
        return (ParseResult.Datagram) r;
    }

    private static void assertKnock(ParseResult r, byte[] frame, String src, String dst) {
        ParseResult.Datagram d = datagram(r);
        assertThat(d.src()).isEqualTo(addr(src));
        assertThat(d.dst()).isEqualTo(addr(dst));
        assertThat(d.srcPort()).isEqualTo(40000);
        assertThat(d.dstPort()).isEqualTo(PORT);
        assertThat(Arrays.copyOfRange(frame, d.payloadOffset(), d.payloadOffset() + d.payloadLength()))
                .isEqualTo(PAYLOAD);
    }

    @Test
    void ethernetIpv4() {
        byte[] f = ethernet(0x0800, V4_OK);
        assertKnock(parse(LinkType.ETHERNET, f), f, V4_SRC, V4_DST);
        assertThat(datagram(parse(LinkType.ETHERNET, f)).src()).isInstanceOf(java.net.Inet4Address.class);
    }

    @Test
    void ethernetIpv6() {
        byte[] f = ethernet(0x86DD, V6_OK);
        assertKnock(parse(LinkType.ETHERNET, f), f, V6_SRC, V6_DST);
        assertThat(datagram(parse(LinkType.ETHERNET, f)).src()).isInstanceOf(java.net.Inet6Address.class);
    }

    @Test
    void ethernetPaddingAfterTheIpPacketIsIgnored() {
        byte[] f = concat(ethernet(0x0800, V4_OK), new byte[18]);
        assertKnock(parse(LinkType.ETHERNET, f), f, V4_SRC, V4_DST);
    }

    @Test
    void frameInsideALargerArrayUsesArrayOffsets() {
        byte[] frame = ethernet(0x0800, V4_OK);
        byte[] buf = concat(new byte[7], frame, new byte[5]);
        ParseResult r = new FrameParser(LinkType.ETHERNET, PORT).parse(buf, 7, frame.length);
        assertKnock(r, buf, V4_SRC, V4_DST);
    }

    @Test
    void oneVlanTag() {
        byte[] f = ethernet(0x0800, V4_OK, 0x8100);
        assertKnock(parse(LinkType.ETHERNET, f), f, V4_SRC, V4_DST);
    }

    @Test
    void twoVlanTagsQinQ() {
        byte[] f = ethernet(0x86DD, V6_OK, 0x88A8, 0x8100);
        assertKnock(parse(LinkType.ETHERNET, f), f, V6_SRC, V6_DST);
        byte[] old = ethernet(0x0800, V4_OK, 0x9100, 0x8100);
        assertKnock(parse(LinkType.ETHERNET, old), old, V4_SRC, V4_DST);
    }

    @Test
    void ipv4WithOptions() {
        byte[] f = ethernet(0x0800, ipv4(V4_SRC, V4_DST, 17, UDP_OK, new byte[] {1, 1, 1, 0}, 0, -1));
        assertKnock(parse(LinkType.ETHERNET, f), f, V4_SRC, V4_DST);
    }

    @Test
    void dontFragmentIsNotAFragment() {
        byte[] f = ethernet(0x0800, ipv4(V4_SRC, V4_DST, 17, UDP_OK, new byte[0], 0x4000, -1));
        assertKnock(parse(LinkType.ETHERNET, f), f, V4_SRC, V4_DST);
    }

    @Test
    void emptyPayloadIsADatagramOfLengthZero() {
        byte[] f = ethernet(0x0800, ipv4(V4_SRC, V4_DST, 17, udp(1, PORT, new byte[0])));
        assertThat(datagram(parse(LinkType.ETHERNET, f)).payloadLength()).isZero();
    }

    @Test
    void linuxCookedV1() {
        byte[] f = sll(0, 0x0800, V4_OK);
        assertKnock(parse(LinkType.LINUX_SLL, f), f, V4_SRC, V4_DST);
        byte[] tagged = concat(sll(0, 0x8100, new byte[] {0, 100, (byte) 0x86, (byte) 0xDD}), V6_OK);
        assertKnock(parse(LinkType.LINUX_SLL, tagged), tagged, V6_SRC, V6_DST);
        byte[] broadcast = sll(1, 0x0800, V4_OK);
        assertKnock(parse(LinkType.LINUX_SLL, broadcast), broadcast, V4_SRC, V4_DST);
    }

    @Test
    void linuxCookedV2() {
        byte[] f = sll2(0, 0x86DD, V6_OK);
        assertKnock(parse(LinkType.LINUX_SLL2, f), f, V6_SRC, V6_DST);
    }

    @Test
    void rawIp() {
        assertKnock(parse(LinkType.RAW_IP, V4_OK), V4_OK, V4_SRC, V4_DST);
        assertKnock(parse(LinkType.RAW_IP, V6_OK), V6_OK, V6_SRC, V6_DST);
    }

    @Test
    void ipv6SkipsHopByHopRoutingDoneAndDestinationOptions() {
        byte[] chain = ext(43, 1, routing(60, 0, ext(17, 2, UDP_OK)));
        byte[] f = ethernet(0x86DD, ipv6(V6_SRC, V6_DST, 0, chain));
        assertKnock(parse(LinkType.ETHERNET, f), f, V6_SRC, V6_DST);
    }

    @Test
    void ipv6AtTheExtensionHeaderLimit() {
        byte[] chain = UDP_OK;
        int next = 17;
        for (int i = 0; i < FrameParser.MAX_IPV6_EXTENSION_HEADERS; i++) {
            chain = ext(next, 1, chain);
            next = 60;
        }
        byte[] f = ipv6(V6_SRC, V6_DST, 60, chain);
        assertKnock(parse(LinkType.RAW_IP, f), f, V6_SRC, V6_DST);
        byte[] tooMany = ipv6(V6_SRC, V6_DST, 60, ext(60, 1, chain));
        assertThat(parse(LinkType.RAW_IP, tooMany)).isEqualTo(new ParseResult.Skipped(SkipReason.TOO_MANY_EXTENSION_HEADERS));
    }

    static Stream<Arguments> skipped() {
        byte[] v4BadChecksum = V4_OK.clone();
        v4BadChecksum[10] ^= 1;
        byte[] v4Version6 = V4_OK.clone();
        v4Version6[0] = 0x65;
        byte[] ihl4 = V4_OK.clone();
        ihl4[0] = 0x44;
        byte[] ihl15 = V4_OK.clone();
        ihl15[0] = 0x4F;
        byte[] v6Version4 = V6_OK.clone();
        v6Version4[0] = 0x40;
        byte[] fifthTag = ethernet(0x0800, V4_OK, 0x8100, 0x8100, 0x8100);
        return Stream.of(
                // link layer
                args("ethernet shorter than its header", LinkType.ETHERNET, new byte[13], SkipReason.TRUNCATED),
                args("ethernet with no bytes", LinkType.ETHERNET, new byte[0], SkipReason.TRUNCATED),
                args("ARP", LinkType.ETHERNET, ethernet(0x0806, new byte[28]), SkipReason.NOT_IP),
                args("802.3 length field", LinkType.ETHERNET, ethernet(0x0040, new byte[64]), SkipReason.NOT_IP),
                args("three VLAN tags", LinkType.ETHERNET, fifthTag, SkipReason.TOO_MANY_VLAN_TAGS),
                args("VLAN tag cut off", LinkType.ETHERNET, Arrays.copyOf(ethernet(0x0800, V4_OK, 0x8100), 16),
                        SkipReason.TRUNCATED),
                args("VLAN tag then ARP", LinkType.ETHERNET, ethernet(0x0806, new byte[28], 0x8100), SkipReason.NOT_IP),
                args("SLL shorter than its header", LinkType.LINUX_SLL, new byte[15], SkipReason.TRUNCATED),
                args("SLL outgoing", LinkType.LINUX_SLL, sll(4, 0x0800, V4_OK), SkipReason.OUTGOING),
                args("SLL IPX", LinkType.LINUX_SLL, sll(0, 0x8137, new byte[30]), SkipReason.NOT_IP),
                args("SLL2 shorter than its header", LinkType.LINUX_SLL2, new byte[19], SkipReason.TRUNCATED),
                args("SLL2 outgoing", LinkType.LINUX_SLL2, sll2(4, 0x86DD, V6_OK), SkipReason.OUTGOING),
                args("raw empty", LinkType.RAW_IP, new byte[0], SkipReason.TRUNCATED),
                args("raw version 5", LinkType.RAW_IP, new byte[] {0x50, 0, 0, 0}, SkipReason.NOT_IP),
                // IPv4
                args("IPv4 shorter than 20", LinkType.ETHERNET, ethernet(0x0800, Arrays.copyOf(V4_OK, 19)),
                        SkipReason.TRUNCATED),
                args("IPv4 EtherType, version 6", LinkType.ETHERNET, ethernet(0x0800, v4Version6), SkipReason.BAD_IP_HEADER),
                args("IHL 4", LinkType.RAW_IP, ihl4, SkipReason.BAD_IP_HEADER),
                args("IHL beyond the capture", LinkType.RAW_IP, Arrays.copyOf(ihl15, 40), SkipReason.TRUNCATED),
                args("total length below IHL", LinkType.RAW_IP, ipv4(V4_SRC, V4_DST, 17, UDP_OK, new byte[0], 0, 19),
                        SkipReason.BAD_IP_HEADER),
                args("bad header checksum", LinkType.RAW_IP, v4BadChecksum, SkipReason.BAD_IP_HEADER),
                args("total length beyond the capture (snaplen)", LinkType.RAW_IP,
                        Arrays.copyOf(V4_OK, V4_OK.length - 1), SkipReason.TRUNCATED),
                args("more fragments", LinkType.RAW_IP, ipv4(V4_SRC, V4_DST, 17, UDP_OK, new byte[0], 0x2000, -1),
                        SkipReason.IP_FRAGMENT),
                args("last fragment", LinkType.RAW_IP, ipv4(V4_SRC, V4_DST, 17, UDP_OK, new byte[0], 0x0010, -1),
                        SkipReason.IP_FRAGMENT),
                args("TCP", LinkType.RAW_IP, ipv4(V4_SRC, V4_DST, 6, new byte[20]), SkipReason.NOT_UDP),
                args("multicast source", LinkType.RAW_IP, ipv4("224.0.0.1", V4_DST, 17, UDP_OK), SkipReason.BAD_ADDRESS),
                args("broadcast source", LinkType.RAW_IP, ipv4("255.255.255.255", V4_DST, 17, UDP_OK),
                        SkipReason.BAD_ADDRESS),
                // IPv6
                args("IPv6 shorter than 40", LinkType.RAW_IP, Arrays.copyOf(V6_OK, 39), SkipReason.TRUNCATED),
                args("IPv6 EtherType, version 4", LinkType.ETHERNET, ethernet(0x86DD, v6Version4), SkipReason.BAD_IP_HEADER),
                args("jumbogram (payload length 0)", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 0, ext(17, 1, UDP_OK), 0),
                        SkipReason.BAD_IP_HEADER),
                args("payload length beyond the capture", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 17, UDP_OK, 200),
                        SkipReason.TRUNCATED),
                args("fragment header", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 44, ext(17, 1, UDP_OK)), SkipReason.IP_FRAGMENT),
                args("fragment header after hop-by-hop", LinkType.RAW_IP,
                        ipv6(V6_SRC, V6_DST, 0, ext(44, 1, ext(17, 1, UDP_OK))), SkipReason.IP_FRAGMENT),
                args("ESP", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 50, new byte[40]), SkipReason.IPV6_EXTENSION_UNSUPPORTED),
                args("AH", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 51, ext(17, 2, UDP_OK)),
                        SkipReason.IPV6_EXTENSION_UNSUPPORTED),
                args("experimental 253", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 253, ext(17, 1, UDP_OK)),
                        SkipReason.IPV6_EXTENSION_UNSUPPORTED),
                args("hop-by-hop not first", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 60, ext(0, 1, ext(17, 1, UDP_OK))),
                        SkipReason.IPV6_EXTENSION_UNSUPPORTED),
                args("routing header still routing", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 43, routing(17, 1, UDP_OK)),
                        SkipReason.IPV6_EXTENSION_UNSUPPORTED),
                args("extension header cut off", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 60, new byte[6]),
                        SkipReason.TRUNCATED),
                args("extension header longer than the packet", LinkType.RAW_IP,
                        ipv6(V6_SRC, V6_DST, 60, ext(17, 1, new byte[0]), 8) /* says 8, then ext length 8: UDP missing */,
                        SkipReason.TRUNCATED),
                args("extension length beyond the payload", LinkType.RAW_IP,
                        ipv6(V6_SRC, V6_DST, 60, new byte[] {17, (byte) 200, 0, 0, 0, 0, 0, 0}), SkipReason.TRUNCATED),
                args("five destination options headers", LinkType.RAW_IP,
                        ipv6(V6_SRC, V6_DST, 60, ext(60, 1, ext(60, 1, ext(60, 1, ext(60, 1, ext(17, 1, UDP_OK)))))),
                        SkipReason.TOO_MANY_EXTENSION_HEADERS),
                args("ICMPv6", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 58, new byte[8]), SkipReason.NOT_UDP),
                args("no next header", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 60, ext(59, 1, new byte[0])),
                        SkipReason.NOT_UDP),
                args("IPv6 multicast source", LinkType.RAW_IP, ipv6("ff02::1", V6_DST, 17, UDP_OK), SkipReason.BAD_ADDRESS),
                args("IPv4-mapped source", LinkType.RAW_IP, ipv6("::ffff:192.0.2.10", V6_DST, 17, UDP_OK),
                        SkipReason.BAD_ADDRESS),
                args("IPv4-mapped destination", LinkType.RAW_IP, ipv6(V6_SRC, "::ffff:192.0.2.1", 17, UDP_OK),
                        SkipReason.BAD_ADDRESS),
                // UDP
                args("UDP header cut off", LinkType.RAW_IP, ipv4(V4_SRC, V4_DST, 17, new byte[7]), SkipReason.TRUNCATED),
                args("IPv6 UDP header cut off", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 17, new byte[7]), SkipReason.TRUNCATED),
                args("other port", LinkType.RAW_IP, ipv4(V4_SRC, V4_DST, 17, udp(40000, PORT + 1, PAYLOAD)),
                        SkipReason.WRONG_PORT),
                args("IPv6 other port", LinkType.RAW_IP, ipv6(V6_SRC, V6_DST, 17, udp(40000, 53, PAYLOAD)),
                        SkipReason.WRONG_PORT),
                args("UDP length beyond the IP payload", LinkType.RAW_IP,
                        ipv4(V4_SRC, V4_DST, 17, udp(1, PORT, PAYLOAD, 8 + PAYLOAD.length + 1)), SkipReason.LENGTH_MISMATCH),
                args("UDP length short of the IP payload", LinkType.RAW_IP,
                        ipv6(V6_SRC, V6_DST, 17, udp(1, PORT, PAYLOAD, 8 + PAYLOAD.length - 1)), SkipReason.LENGTH_MISMATCH),
                args("UDP length below 8", LinkType.RAW_IP, ipv4(V4_SRC, V4_DST, 17, udp(1, PORT, new byte[0], 7)),
                        SkipReason.LENGTH_MISMATCH));
    }

    private static Arguments args(String name, LinkType type, byte[] frame, SkipReason reason) {
        return Arguments.of(name, type, frame, reason);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("skipped")
    void skips(String name, LinkType type, byte[] frame, SkipReason reason) {
        assertThat(parse(type, frame)).isEqualTo(ParseResult.Skipped.of(reason));
    }

    @Test
    void everySkipReasonIsExercised() {
        Set<SkipReason> seen = EnumSet.noneOf(SkipReason.class);
        skipped().forEach(a -> seen.add((SkipReason) a.get()[3]));
        assertThat(seen).containsExactlyInAnyOrder(SkipReason.values());
    }

    @Test
    void boundsThatDoNotFitTheArrayAreTruncatedNotExceptions() {
        FrameParser p = new FrameParser(LinkType.ETHERNET, PORT);
        byte[] f = ethernet(0x0800, V4_OK);
        for (int[] b : List.of(new int[] {-1, 10}, new int[] {0, -1}, new int[] {1, f.length},
                new int[] {f.length + 1, 0}, new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE})) {
            assertThat(p.parse(f, b[0], b[1])).as("offset %d length %d", b[0], b[1])
                    .isEqualTo(ParseResult.Skipped.of(SkipReason.TRUNCATED));
        }
        assertThat(p.parse(null)).isEqualTo(ParseResult.Skipped.of(SkipReason.TRUNCATED));
    }

    @Test
    void everyPrefixOfAValidFrameIsSkippedNotThrown() {
        for (LinkType type : LinkType.values()) {
            byte[] f = switch (type) {
                case ETHERNET -> ethernet(0x86DD, ipv6(V6_SRC, V6_DST, 0, ext(17, 1, UDP_OK)), 0x8100);
                case LINUX_SLL -> sll(0, 0x0800, V4_OK);
                case LINUX_SLL2 -> sll2(0, 0x86DD, V6_OK);
                case RAW_IP -> V4_OK;
            };
            FrameParser p = new FrameParser(type, PORT);
            assertThat(p.parse(f)).isInstanceOf(ParseResult.Datagram.class);
            for (int n = 0; n < f.length; n++) {
                assertThat(p.parse(f, 0, n)).as("%s prefix %d", type, n).isInstanceOf(ParseResult.Skipped.class);
            }
        }
    }

    @Test
    void knockPortMustBeAPort() {
        assertThatThrownBy(() -> new FrameParser(LinkType.ETHERNET, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FrameParser(LinkType.ETHERNET, 65536)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dataLinkTypes() {
        assertThat(LinkType.fromDlt(1)).contains(LinkType.ETHERNET);
        assertThat(LinkType.fromDlt(113)).contains(LinkType.LINUX_SLL);
        assertThat(LinkType.fromDlt(276)).contains(LinkType.LINUX_SLL2);
        assertThat(LinkType.fromDlt(12)).contains(LinkType.RAW_IP);
        assertThat(LinkType.fromDlt(101)).contains(LinkType.RAW_IP);
        assertThat(LinkType.fromDlt(0)).isEmpty();
        assertThat(LinkType.fromDlt(127)).isEmpty();
    }
}
