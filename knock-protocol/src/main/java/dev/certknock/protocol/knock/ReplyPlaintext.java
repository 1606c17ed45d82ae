package dev.certknock.protocol.knock;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

/** Encodes and strictly decodes the plaintext of a v2 reply (docs/PROTOCOL.md, "Replies"). */
final class ReplyPlaintext {

    private static final int KIND_OPENED = 1;
    private static final int KIND_ADDRESS_NOT_SIGNED = 2;

    private ReplyPlaintext() {
    }

    /** The plaintext: kind u8 | server time u64 | family u8 (4 or 6) | address | port u16 | open seconds u32. */
    static byte[] encode(KnockReply reply) {
        byte[] address = reply.observedSource().getAddress().getAddress();
        byte[] out = new byte[1 + 8 + 1 + address.length + 2 + 4];
        int p = 0;
        out[p++] = (byte) (reply instanceof KnockReply.Opened ? KIND_OPENED : KIND_ADDRESS_NOT_SIGNED);
        p = KnockPlaintext.putLong(out, p, reply.serverTimeMillis());
        out[p++] = (byte) (address.length == 4 ? 4 : 6);
        System.arraycopy(address, 0, out, p, address.length);
        p += address.length;
        p = KnockPlaintext.putShort(out, p, reply.observedSource().getPort());
        KnockPlaintext.putInt(out, p, reply instanceof KnockReply.Opened o ? o.openSeconds() : 0);
        return out;
    }

    /** Strict decoding: empty for any length, kind, family or value outside the rules. */
    static Optional<KnockReply> decode(byte[] pt) {
        if (pt.length != 1 + 8 + 1 + 4 + 2 + 4 && pt.length != 1 + 8 + 1 + 16 + 2 + 4) {
            return Optional.empty();
        }
        int kind = pt[0] & 0xFF;
        long time = KnockPlaintext.getLong(pt, 1);
        int family = pt[9] & 0xFF;
        int addressLength = pt.length - (1 + 8 + 1 + 2 + 4);
        if (time < 0 || !(family == 4 && addressLength == 4 || family == 6 && addressLength == 16)) {
            return Optional.empty();
        }
        InetAddress address;
        try {
            address = InetAddress.getByAddress(Arrays.copyOfRange(pt, 10, 10 + addressLength));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
        if (family == 6 && !(address instanceof Inet6Address) || family == 4 && !(address instanceof Inet4Address)) {
            return Optional.empty(); // an IPv4-mapped IPv6 address
        }
        int port = KnockPlaintext.getShort(pt, 10 + addressLength);
        long seconds = KnockPlaintext.getInt(pt, 12 + addressLength) & 0xFFFFFFFFL;
        InetSocketAddress source = new InetSocketAddress(address, port);
        try {
            if (kind == KIND_OPENED) {
                return Optional.of(new KnockReply.Opened(time, source, (int) Math.min(seconds, Integer.MAX_VALUE)));
            }
            if (kind == KIND_ADDRESS_NOT_SIGNED && seconds == 0) {
                return Optional.of(new KnockReply.AddressNotSigned(time, source));
            }
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
