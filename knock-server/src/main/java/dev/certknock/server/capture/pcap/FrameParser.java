package dev.certknock.server.capture.pcap;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * Parses one captured frame down to a UDP datagram for the knock port: link layer (Ethernet with up to two
 * VLAN tags, Linux cooked SLL/SLL2, raw IP), IPv4 or IPv6 (hop-by-hop, routing with no segments left and
 * destination options headers skipped, at most {@value #MAX_IPV6_EXTENSION_HEADERS} of them), UDP.
 *
 * <p>Pure and stateless: no I/O, never throws for any input, and allocates only the two address objects of
 * an accepted datagram (nothing sized by a length read from the frame). Every length read from the frame is
 * checked against the captured bytes before use. Anything unexpected is a {@link ParseResult.Skipped} with
 * its {@link SkipReason}.
 *
 * <p>Strict on purpose, as a knock is one small unfragmented datagram: IP fragments, IPv6 jumbograms, UDP
 * length different from the IP payload length and a bad IPv4 header checksum are all refused. The UDP
 * checksum is not verified: captured on veth or with checksum offload it is often partial, and the knock
 * carries its own authentication.
 */
public final class FrameParser {

    /** The most IPv6 extension headers walked before the frame is refused. */
    public static final int MAX_IPV6_EXTENSION_HEADERS = 4;
    /** The most VLAN tags skipped on Ethernet or SLL. */
    public static final int MAX_VLAN_TAGS = 2;

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int ETHERTYPE_QINQ = 0x88A8;
    private static final int ETHERTYPE_QINQ_OLD = 0x9100;
    private static final int PACKET_OUTGOING = 4;
    private static final int PROTO_UDP = 17;
    private static final int UDP_HEADER = 8;
    private static final int IPV6_HEADER = 40;

    private final LinkType linkType;
    private final int knockPort;

    /**
     * @param linkType  framing of the frames to parse
     * @param knockPort the UDP destination port accepted (1-65535); datagrams to others are WRONG_PORT
     */
    public FrameParser(LinkType linkType, int knockPort) {
        this.linkType = Objects.requireNonNull(linkType, "linkType");
        if (knockPort < 1 || knockPort > 65535) {
            throw new IllegalArgumentException("knock port out of range: " + knockPort);
        }
        this.knockPort = knockPort;
    }

    public LinkType linkType() {
        return linkType;
    }

    public int knockPort() {
        return knockPort;
    }

    /** Parses a whole array as one frame. */
    public ParseResult parse(byte[] frame) {
        return parse(frame, 0, frame == null ? 0 : frame.length);
    }

    /**
     * Parses {@code length} bytes of {@code frame} from {@code offset}. Offsets in the result index
     * {@code frame}. Bounds that do not fit the array are TRUNCATED, not an exception.
     */
    public ParseResult parse(byte[] frame, int offset, int length) {
        if (frame == null || offset < 0 || length < 0 || offset > frame.length || length > frame.length - offset) {
            return skip(SkipReason.TRUNCATED);
        }
        int end = offset + length;
        switch (linkType) {
            case ETHERNET:
                if (length < 14) {
                    return skip(SkipReason.TRUNCATED);
                }
                return afterEthertype(frame, offset + 12, end);
            case LINUX_SLL:
                if (length < 16) {
                    return skip(SkipReason.TRUNCATED);
                }
                if (u16(frame, offset) == PACKET_OUTGOING) {
                    return skip(SkipReason.OUTGOING);
                }
                return afterEthertype(frame, offset + 14, end);
            case LINUX_SLL2:
                if (length < 20) {
                    return skip(SkipReason.TRUNCATED);
                }
                if (u8(frame, offset + 10) == PACKET_OUTGOING) {
                    return skip(SkipReason.OUTGOING);
                }
                // The protocol field comes first in SLL2; the header is 20 bytes whatever it says.
                return byEthertype(u16(frame, offset), frame, offset + 20, end);
            case RAW_IP:
                return byVersion(frame, offset, end);
            default:
                return skip(SkipReason.NOT_IP);
        }
    }

    /** {@code typeAt} is the offset of a 2-byte EtherType, possibly a VLAN TPID followed by a tag. */
    private ParseResult afterEthertype(byte[] f, int typeAt, int end) {
        int type = u16(f, typeAt);
        int next = typeAt + 2;
        int tags = 0;
        while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
            if (++tags > MAX_VLAN_TAGS) {
                return skip(SkipReason.TOO_MANY_VLAN_TAGS);
            }
            // Tag: 2 bytes TCI then the inner EtherType.
            if (end - next < 4) {
                return skip(SkipReason.TRUNCATED);
            }
            type = u16(f, next + 2);
            next += 4;
        }
        return byEthertype(type, f, next, end);
    }

    private ParseResult byEthertype(int type, byte[] f, int ip, int end) {
        if (type == ETHERTYPE_IPV4) {
            return ipv4(f, ip, end);
        }
        if (type == ETHERTYPE_IPV6) {
            return ipv6(f, ip, end);
        }
        return skip(SkipReason.NOT_IP);
    }

    private ParseResult byVersion(byte[] f, int ip, int end) {
        if (end - ip < 1) {
            return skip(SkipReason.TRUNCATED);
        }
        int version = u8(f, ip) >>> 4;
        if (version == 4) {
            return ipv4(f, ip, end);
        }
        if (version == 6) {
            return ipv6(f, ip, end);
        }
        return skip(SkipReason.NOT_IP);
    }

    private ParseResult ipv4(byte[] f, int ip, int end) {
        if (end - ip < 20) {
            return skip(SkipReason.TRUNCATED);
        }
        int vihl = u8(f, ip);
        if (vihl >>> 4 != 4) {
            return skip(SkipReason.BAD_IP_HEADER);
        }
        int headerLength = (vihl & 0x0F) * 4;
        if (headerLength < 20) {
            return skip(SkipReason.BAD_IP_HEADER);
        }
        if (end - ip < headerLength) {
            return skip(SkipReason.TRUNCATED);
        }
        int totalLength = u16(f, ip + 2);
        if (totalLength < headerLength) {
            return skip(SkipReason.BAD_IP_HEADER);
        }
        if (checksum(f, ip, headerLength) != 0) {
            return skip(SkipReason.BAD_IP_HEADER);
        }
        if (totalLength > end - ip) {
            return skip(SkipReason.TRUNCATED);
        }
        // Flags and fragment offset: MF set or a non-zero offset is a fragment. DF and the reserved bit are ignored.
        if ((u16(f, ip + 6) & 0x3FFF) != 0) {
            return skip(SkipReason.IP_FRAGMENT);
        }
        if (u8(f, ip + 9) != PROTO_UDP) {
            return skip(SkipReason.NOT_UDP);
        }
        // Ethernet pads short frames: the IP total length, not the frame, ends the packet.
        return udp(f, ip + headerLength, ip + totalLength, ip + 12, 4);
    }

    private ParseResult ipv6(byte[] f, int ip, int end) {
        if (end - ip < IPV6_HEADER) {
            return skip(SkipReason.TRUNCATED);
        }
        if (u8(f, ip) >>> 4 != 6) {
            return skip(SkipReason.BAD_IP_HEADER);
        }
        int payloadLength = u16(f, ip + 4);
        if (payloadLength == 0) {
            // Zero means a jumbogram (or nothing at all): neither is a knock.
            return skip(SkipReason.BAD_IP_HEADER);
        }
        if (payloadLength > end - ip - IPV6_HEADER) {
            return skip(SkipReason.TRUNCATED);
        }
        int packetEnd = ip + IPV6_HEADER + payloadLength;
        int next = u8(f, ip + 6);
        int at = ip + IPV6_HEADER;
        int headers = 0;
        while (next != PROTO_UDP) {
            switch (next) {
                case 0: // hop-by-hop options: only right after the fixed header
                    if (headers != 0) {
                        return skip(SkipReason.IPV6_EXTENSION_UNSUPPORTED);
                    }
                    break;
                case 60: // destination options
                    break;
                case 43: // routing: fine only if it has finished routing (segments left 0)
                    if (packetEnd - at >= 4 && u8(f, at + 3) != 0) {
                        return skip(SkipReason.IPV6_EXTENSION_UNSUPPORTED);
                    }
                    break;
                case 44: // fragment
                    return skip(SkipReason.IP_FRAGMENT);
                case 50: // ESP
                case 51: // AH
                case 135: // mobility
                case 139: // HIP
                case 140: // shim6
                case 253: // experimental
                case 254: // experimental
                    return skip(SkipReason.IPV6_EXTENSION_UNSUPPORTED);
                default: // an upper-layer protocol other than UDP, or 59 (no next header)
                    return skip(SkipReason.NOT_UDP);
            }
            if (++headers > MAX_IPV6_EXTENSION_HEADERS) {
                return skip(SkipReason.TOO_MANY_EXTENSION_HEADERS);
            }
            if (packetEnd - at < 8) {
                return skip(SkipReason.TRUNCATED);
            }
            int extLength = (u8(f, at + 1) + 1) * 8;
            if (extLength > packetEnd - at) {
                return skip(SkipReason.TRUNCATED);
            }
            next = u8(f, at);
            at += extLength;
        }
        return udp(f, at, packetEnd, ip + 8, 16);
    }

    /**
     * @param udp       offset of the UDP header
     * @param packetEnd end of the IP packet (exclusive)
     * @param addrs     offset of the source address; the destination follows it
     */
    private ParseResult udp(byte[] f, int udp, int packetEnd, int addrs, int addrLength) {
        if (packetEnd - udp < UDP_HEADER) {
            return skip(SkipReason.TRUNCATED);
        }
        int dstPort = u16(f, udp + 2);
        if (dstPort != knockPort) {
            return skip(SkipReason.WRONG_PORT);
        }
        int udpLength = u16(f, udp + 4);
        if (udpLength < UDP_HEADER || udpLength != packetEnd - udp) {
            return skip(SkipReason.LENGTH_MISMATCH);
        }
        if (!plausibleAddresses(f, addrs, addrLength)) {
            return skip(SkipReason.BAD_ADDRESS);
        }
        InetAddress src;
        InetAddress dst;
        try {
            src = address(f, addrs, addrLength);
            dst = address(f, addrs + addrLength, addrLength);
        } catch (UnknownHostException e) {
            return skip(SkipReason.BAD_ADDRESS); // unreachable: lengths are 4 or 16
        }
        return new ParseResult.Datagram(src, u16(f, udp), dst, dstPort, udp + UDP_HEADER, udpLength - UDP_HEADER);
    }

    private static boolean plausibleAddresses(byte[] f, int addrs, int addrLength) {
        if (addrLength == 4) {
            return (u8(f, addrs) & 0xF0) != 0xE0 // multicast source
                    && !(u8(f, addrs) == 0xFF && u8(f, addrs + 1) == 0xFF && u8(f, addrs + 2) == 0xFF
                            && u8(f, addrs + 3) == 0xFF); // limited broadcast source
        }
        // IPv6: no multicast source; no IPv4-mapped address on either side (Java would turn it into IPv4).
        return u8(f, addrs) != 0xFF && !v4Mapped(f, addrs) && !v4Mapped(f, addrs + 16);
    }

    private static boolean v4Mapped(byte[] f, int at) {
        for (int i = 0; i < 10; i++) {
            if (f[at + i] != 0) {
                return false;
            }
        }
        return f[at + 10] == (byte) 0xFF && f[at + 11] == (byte) 0xFF;
    }

    private static InetAddress address(byte[] f, int at, int addrLength) throws UnknownHostException {
        byte[] a = new byte[addrLength];
        System.arraycopy(f, at, a, 0, addrLength);
        // IPv4-mapped IPv6 addresses were refused before, so a 16-byte address stays an Inet6Address.
        return InetAddress.getByAddress(a);
    }

    /** One's-complement sum over the header: 0 when the stored checksum is right. */
    private static int checksum(byte[] f, int at, int length) {
        int sum = 0;
        for (int i = 0; i < length; i += 2) {
            sum += u16(f, at + i);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }

    private static int u8(byte[] f, int at) {
        return f[at] & 0xFF;
    }

    private static int u16(byte[] f, int at) {
        return ((f[at] & 0xFF) << 8) | (f[at + 1] & 0xFF);
    }

    private static ParseResult skip(SkipReason reason) {
        return ParseResult.Skipped.of(reason);
    }
}
