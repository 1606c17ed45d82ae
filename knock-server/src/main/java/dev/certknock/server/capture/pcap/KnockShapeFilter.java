package dev.certknock.server.capture.pcap;

import dev.certknock.protocol.knock.KnockFormat;
import dev.certknock.protocol.knock.KnockSuite;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The BPF expression that lets through only what could be a knock, so random junk is dropped in the
 * kernel and never reaches user space: UDP to the knock port whose payload starts with a version byte
 * the server reads and a suite byte it knows, and whose length lies between the smallest possible knock
 * (header, the shortest encapsulated key, the AEAD tag) and {@link KnockFormat#MAX_DATAGRAM_SIZE}. The
 * exact checks (per-suite minimum, key id) stay in the pipeline's frame check.
 *
 * <p>For IPv4 libpcap's {@code udp[n]} follows the IP header length; for IPv6 the UDP header must follow the
 * fixed 40-byte header, which {@code udp} already requires (it does not walk extension headers), so the
 * payload is at {@code ip6[48]}.
 */
final class KnockShapeFilter {

    /** Every version byte the server reads: a new protocol version must be added here. */
    static final List<Integer> VERSIONS = List.of(KnockFormat.VERSION_1, KnockFormat.VERSION_2);
    private static final int UDP_HEADER = 8;
    /** The shortest knock of any suite, by what its header alone requires. */
    static final int MIN_PAYLOAD = KnockFormat.HEADER_SIZE
            + Arrays.stream(KnockSuite.values()).mapToInt(KnockSuite::encSize).min().orElseThrow()
            + KnockFormat.AEAD_TAG_SIZE;

    private KnockShapeFilter() {
    }

    static String expression(int knockPort) {
        String ip4 = shape("udp[8]", "udp[9]", "udp[4:2]");
        String ip6 = shape("ip6[48]", "ip6[49]", "ip6[44:2]");
        return "udp dst port " + knockPort + " and ((ip and " + ip4 + ") or (ip6 and " + ip6 + "))";
    }

    private static String shape(String versionByte, String suiteByte, String udpLength) {
        return anyOf(versionByte, VERSIONS) + " and "
                + anyOf(suiteByte, Arrays.stream(KnockSuite.values()).map(KnockSuite::wireId).collect(Collectors.toList()))
                + " and " + udpLength + " >= " + (UDP_HEADER + MIN_PAYLOAD)
                + " and " + udpLength + " <= " + (UDP_HEADER + KnockFormat.MAX_DATAGRAM_SIZE);
    }

    private static String anyOf(String field, List<Integer> values) {
        return values.stream().map(v -> field + " = " + v).collect(Collectors.joining(" or ", "(", ")"));
    }
}
