package dev.certknock.server.capture.pcap;

import java.util.Optional;

/** The link-layer framings {@link FrameParser} understands, with their libpcap DLT numbers. */
public enum LinkType {
    /** DLT_EN10MB (1): Ethernet II, optionally with one or two 802.1Q/802.1ad tags. Linux {@code lo} too. */
    ETHERNET(14),
    /** DLT_LINUX_SLL (113): Linux cooked capture v1, what the {@code any} device gives. */
    LINUX_SLL(16),
    /** DLT_LINUX_SLL2 (276): Linux cooked capture v2. */
    LINUX_SLL2(20),
    /** DLT_RAW (12, 14 on OpenBSD), LINKTYPE_RAW (101), DLT_IPV4 (228), DLT_IPV6 (229): bare IP, e.g. tun or WireGuard. */
    RAW_IP(0);

    private final int headerLength;

    LinkType(int headerLength) {
        this.headerLength = headerLength;
    }

    /** Bytes of link-layer header before the (first) protocol field is consumed; 0 for raw IP. */
    public int headerLength() {
        return headerLength;
    }

    /** The link type for a libpcap data-link type number, if supported. */
    public static Optional<LinkType> fromDlt(int dlt) {
        switch (dlt) {
            case 1:
                return Optional.of(ETHERNET);
            case 113:
                return Optional.of(LINUX_SLL);
            case 276:
                return Optional.of(LINUX_SLL2);
            case 12:
            case 14:
            case 101:
            case 228:
            case 229:
                return Optional.of(RAW_IP);
            default:
                return Optional.empty();
        }
    }
}
