package dev.certknock.server.capture.pcap;

/** Why a captured frame was not handed on as a knock datagram. Every skipped frame is counted by reason. */
public enum SkipReason {
    /** The frame ends before a header it announces (also: IP length larger than what was captured). */
    TRUNCATED,
    /** The link layer carries something other than IPv4 or IPv6 (ARP, LLDP, 802.3 length frames...). */
    NOT_IP,
    /** More than two 802.1Q/802.1ad VLAN tags. */
    TOO_MANY_VLAN_TAGS,
    /** A Linux cooked (SLL/SLL2) frame marked as sent by this host, not received. */
    OUTGOING,
    /** The IP header is malformed: wrong version, IHL below 5, bad IPv4 checksum, IPv6 jumbogram... */
    BAD_IP_HEADER,
    /** Source or destination address that never belongs on a knock: multicast source, IPv4-mapped IPv6. */
    BAD_ADDRESS,
    /** An IP fragment (IPv4 MF/offset, IPv6 fragment header): a knock is never fragmented. */
    IP_FRAGMENT,
    /** An IPv6 extension header that is not skipped (AH, ESP, mobility, HIP, shim6, experimental) or a routing header still routing. */
    IPV6_EXTENSION_UNSUPPORTED,
    /** More IPv6 extension headers than {@link FrameParser#MAX_IPV6_EXTENSION_HEADERS}. */
    TOO_MANY_EXTENSION_HEADERS,
    /** IP carries another protocol (TCP, ICMP, no next header...). */
    NOT_UDP,
    /** UDP to another port than the knock port. */
    WRONG_PORT,
    /** The UDP length field disagrees with the IP payload length. */
    LENGTH_MISMATCH
}
