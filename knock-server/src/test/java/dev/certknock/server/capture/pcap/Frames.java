package dev.certknock.server.capture.pcap;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Hand-built frames for the parser tests: well-formed by default, each field overridable. */
final class Frames {

    static final byte[] PAYLOAD = "knock-payload".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final int PORT = 62201;

    private Frames() {
    }

    static InetAddress addr(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static byte[] udp(int srcPort, int dstPort, byte[] payload) {
        return udp(srcPort, dstPort, payload, 8 + payload.length);
    }

    static byte[] udp(int srcPort, int dstPort, byte[] payload, int lengthField) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        u16(b, srcPort);
        u16(b, dstPort);
        u16(b, lengthField);
        u16(b, 0); // checksum: not verified
        b.writeBytes(payload);
        return b.toByteArray();
    }

    /** A valid IPv4 packet: IHL 5 unless options are given, correct checksum. */
    static byte[] ipv4(String src, String dst, int protocol, byte[] payload) {
        return ipv4(src, dst, protocol, payload, new byte[0], 0, -1);
    }

    /**
     * @param options      IP options (a multiple of 4 bytes)
     * @param flagsFragment the flags + fragment offset field
     * @param totalLength  the total length field, or -1 for the right value
     */
    static byte[] ipv4(String src, String dst, int protocol, byte[] payload, byte[] options, int flagsFragment,
            int totalLength) {
        int ihl = 5 + options.length / 4;
        byte[] h = new byte[ihl * 4];
        h[0] = (byte) (0x40 | ihl);
        int total = totalLength >= 0 ? totalLength : h.length + payload.length;
        h[2] = (byte) (total >>> 8);
        h[3] = (byte) total;
        h[4] = 0x12;
        h[5] = 0x34;
        h[6] = (byte) (flagsFragment >>> 8);
        h[7] = (byte) flagsFragment;
        h[8] = 64;
        h[9] = (byte) protocol;
        System.arraycopy(addr(src).getAddress(), 0, h, 12, 4);
        System.arraycopy(addr(dst).getAddress(), 0, h, 16, 4);
        System.arraycopy(options, 0, h, 20, options.length);
        int sum = 0;
        for (int i = 0; i < h.length; i += 2) {
            sum += ((h[i] & 0xFF) << 8) | (h[i + 1] & 0xFF);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        int c = ~sum & 0xFFFF;
        h[10] = (byte) (c >>> 8);
        h[11] = (byte) c;
        return concat(h, payload);
    }

    /** An IPv6 packet: {@code chain} is the extension headers (already encoded) then the upper-layer bytes. */
    static byte[] ipv6(String src, String dst, int nextHeader, byte[] chain) {
        return ipv6(src, dst, nextHeader, chain, chain.length);
    }

    static byte[] ipv6(String src, String dst, int nextHeader, byte[] chain, int payloadLength) {
        byte[] h = new byte[40];
        h[0] = 0x60;
        h[4] = (byte) (payloadLength >>> 8);
        h[5] = (byte) payloadLength;
        h[6] = (byte) nextHeader;
        h[7] = 64;
        System.arraycopy(v6Bytes(src), 0, h, 8, 16);
        System.arraycopy(v6Bytes(dst), 0, h, 24, 16);
        return concat(h, chain);
    }

    /** 16 bytes of an IPv6 literal; Java turns "::ffff:a.b.c.d" into IPv4, so that one is mapped back here. */
    static byte[] v6Bytes(String literal) {
        byte[] a = addr(literal).getAddress();
        if (a.length == 16) {
            return a;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(a, 0, mapped, 12, 4);
        return mapped;
    }

    /** An extension header of {@code units} 8-byte units (1 = 8 bytes) followed by {@code rest}. */
    static byte[] ext(int nextHeader, int units, byte[] rest) {
        byte[] h = new byte[units * 8];
        h[0] = (byte) nextHeader;
        h[1] = (byte) (units - 1);
        return concat(h, rest);
    }

    /** A routing header (type 4) of 8 bytes with the given segments left, followed by {@code rest}. */
    static byte[] routing(int nextHeader, int segmentsLeft, byte[] rest) {
        byte[] h = new byte[8];
        h[0] = (byte) nextHeader;
        h[2] = 4;
        h[3] = (byte) segmentsLeft;
        return concat(h, rest);
    }

    /** Ethernet II with the given VLAN TPIDs (outermost first) then the EtherType. */
    static byte[] ethernet(int etherType, byte[] payload, int... vlanTpids) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2});
        for (int tpid : vlanTpids) {
            u16(b, tpid);
            u16(b, 0x0064); // TCI: VLAN 100
        }
        u16(b, etherType);
        b.writeBytes(payload);
        return b.toByteArray();
    }

    /** Linux cooked v1: packet type, ARPHRD_ETHER, 6-byte address, protocol. */
    static byte[] sll(int packetType, int protocol, byte[] payload) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        u16(b, packetType);
        u16(b, 1);
        u16(b, 6);
        b.writeBytes(new byte[] {2, 0, 0, 0, 0, 2, 0, 0});
        u16(b, protocol);
        b.writeBytes(payload);
        return b.toByteArray();
    }

    /** Linux cooked v2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address. */
    static byte[] sll2(int packetType, int protocol, byte[] payload) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        u16(b, protocol);
        u16(b, 0);
        b.writeBytes(new byte[] {0, 0, 0, 3});
        u16(b, 1);
        b.write(packetType);
        b.write(6);
        b.writeBytes(new byte[] {2, 0, 0, 0, 0, 2, 0, 0});
        b.writeBytes(payload);
        return b.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private static void u16(ByteArrayOutputStream b, int v) {
        b.write(v >>> 8);
        b.write(v);
    }
}
