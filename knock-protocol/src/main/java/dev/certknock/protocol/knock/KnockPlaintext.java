package dev.certknock.protocol.knock;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.io.ByteArrayInputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Encodes and strictly decodes the sealed content of a v1 knock (see docs/PROTOCOL.md):
 * <pre>
 * timestamp u64 | nonce 16 | duration u32 | flags u8 | grant count u8 | grants 5*n
 * | [IPv4 4] | [IPv6 16] | cert count u8 | (u16 length, DER)* | signature 64
 * </pre>
 * Every length is checked against what remains before it is used; nothing is allocated from an
 * unchecked length.
 */
final class KnockPlaintext {

    private static final ThreadLocal<CertificateFactory> X509 = ThreadLocal.withInitial(() -> {
        try {
            return CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
    });

    private KnockPlaintext() {
    }

    /** Size of the content before the signature, for the given request and certificate encodings. */
    static int unsignedSize(KnockRequest request, List<byte[]> certificates) {
        int size = KnockFormat.FIXED_PREFIX_SIZE + KnockFormat.GRANT_SIZE * request.grants().size()
                + (request.declaredIpv4().isPresent() ? 4 : 0) + (request.declaredIpv6().isPresent() ? 16 : 0) + 1;
        for (byte[] c : certificates) {
            size += 2 + c.length;
        }
        return size;
    }

    /** The content up to (not including) the signature. */
    static byte[] encodeUnsigned(long timestampMillis, byte[] nonce, KnockRequest request, List<byte[]> certificates) {
        byte[] out = new byte[unsignedSize(request, certificates)];
        int p = 0;
        p = putLong(out, p, timestampMillis);
        System.arraycopy(nonce, 0, out, p, KnockFormat.NONCE_SIZE);
        p += KnockFormat.NONCE_SIZE;
        p = putInt(out, p, request.durationSeconds());
        int flags = (request.declaredIpv4().isPresent() ? KnockFormat.FLAG_IPV4 : 0)
                | (request.declaredIpv6().isPresent() ? KnockFormat.FLAG_IPV6 : 0);
        out[p++] = (byte) flags;
        out[p++] = (byte) request.grants().size();
        for (PortGrant g : request.grants()) {
            out[p++] = (byte) g.protocol().number();
            p = putShort(out, p, g.firstPort());
            p = putShort(out, p, g.lastPort());
        }
        if (request.declaredIpv4().isPresent()) {
            System.arraycopy(request.declaredIpv4().get().getAddress(), 0, out, p, 4);
            p += 4;
        }
        if (request.declaredIpv6().isPresent()) {
            System.arraycopy(request.declaredIpv6().get().getAddress(), 0, out, p, 16);
            p += 16;
        }
        out[p++] = (byte) certificates.size();
        for (byte[] c : certificates) {
            p = putShort(out, p, c.length);
            System.arraycopy(c, 0, out, p, c.length);
            p += c.length;
        }
        if (p != out.length) {
            throw new IllegalStateException("knock content size mismatch");
        }
        return out;
    }

    /**
     * Decodes the whole plaintext (content and signature).
     *
     * @throws KnockRejectedException MALFORMED_CONTENT or MALFORMED_CERTIFICATE
     */
    static KnockContent decode(KnockVersion version, byte[] pt) throws KnockRejectedException {
        if (pt.length < KnockFormat.MIN_PLAINTEXT_SIZE) {
            throw malformed("content shorter than the smallest knock");
        }
        int end = pt.length - KnockFormat.SIGNATURE_SIZE;
        int p = 0;
        long timestamp = getLong(pt, p);
        p += 8;
        if (timestamp < 0) {
            throw malformed("timestamp out of range");
        }
        byte[] nonce = Arrays.copyOfRange(pt, p, p + KnockFormat.NONCE_SIZE);
        p += KnockFormat.NONCE_SIZE;
        long duration = getInt(pt, p) & 0xFFFFFFFFL;
        p += 4;
        if (duration < KnockFormat.MIN_DURATION_SECONDS || duration > KnockFormat.MAX_DURATION_SECONDS) {
            throw malformed("duration outside 1-86400 seconds");
        }
        int flags = pt[p++] & 0xFF;
        if ((flags & ~(KnockFormat.FLAG_IPV4 | KnockFormat.FLAG_IPV6)) != 0) {
            throw malformed("reserved flag bits set");
        }
        if (version.bindsAddress() && flags == 0) {
            throw malformed("a v2 knock declares no address");
        }
        int grantCount = pt[p++] & 0xFF;
        if (grantCount < 1 || grantCount > KnockFormat.MAX_GRANTS) {
            throw malformed("grant count outside 1-16");
        }
        if (end - p < grantCount * KnockFormat.GRANT_SIZE) {
            throw malformed("grants run past the end");
        }
        List<PortGrant> grants = new ArrayList<>(grantCount);
        for (int i = 0; i < grantCount; i++) {
            Protocol protocol = Protocol.ofNumber(pt[p] & 0xFF);
            int first = getShort(pt, p + 1);
            int last = getShort(pt, p + 3);
            p += KnockFormat.GRANT_SIZE;
            if (protocol == null) {
                throw malformed("grant protocol is neither tcp nor udp");
            }
            if (first < PortGrant.MIN_PORT || last < first) {
                throw malformed("grant port range invalid");
            }
            grants.add(new PortGrant(protocol, first, last));
        }
        Optional<Inet4Address> v4 = Optional.empty();
        if ((flags & KnockFormat.FLAG_IPV4) != 0) {
            if (end - p < 4) {
                throw malformed("declared IPv4 address runs past the end");
            }
            v4 = Optional.of((Inet4Address) address(pt, p, 4));
            p += 4;
        }
        Optional<Inet6Address> v6 = Optional.empty();
        if ((flags & KnockFormat.FLAG_IPV6) != 0) {
            if (end - p < 16) {
                throw malformed("declared IPv6 address runs past the end");
            }
            InetAddress a = address(pt, p, 16);
            if (!(a instanceof Inet6Address a6)) {
                // The JDK turns IPv4-mapped IPv6 addresses into IPv4 ones: a client must declare those as IPv4.
                throw malformed("declared IPv6 address is IPv4-mapped");
            }
            v6 = Optional.of(a6);
            p += 16;
        }
        if (end - p < 1) {
            throw malformed("certificate count missing");
        }
        int certCount = pt[p++] & 0xFF;
        if (certCount < 1 || certCount > KnockFormat.MAX_CERTIFICATES) {
            throw malformed("certificate count outside 1-4");
        }
        List<X509Certificate> chain = new ArrayList<>(certCount);
        for (int i = 0; i < certCount; i++) {
            if (end - p < 2) {
                throw malformed("certificate length missing");
            }
            int len = getShort(pt, p);
            p += 2;
            if (len == 0 || len > end - p) {
                throw malformed("certificate length runs past the end");
            }
            chain.add(certificate(pt, p, len));
            p += len;
        }
        if (p != end) {
            throw malformed("trailing bytes before the signature");
        }
        return new KnockContent(timestamp, new KnockNonce(nonce), grants, (int) duration, v4, v6, chain);
    }

    private static X509Certificate certificate(byte[] pt, int off, int len) throws KnockRejectedException {
        // The JDK's parser also reads PEM and ignores what follows a certificate: only exact DER passes.
        if ((pt[off] & 0xFF) != 0x30) {
            throw new KnockRejectedException(RejectReason.MALFORMED_CERTIFICATE, "certificate is not DER");
        }
        try {
            X509Certificate c = (X509Certificate) X509.get()
                    .generateCertificate(new ByteArrayInputStream(pt, off, len));
            byte[] enc = c.getEncoded();
            if (!Arrays.equals(enc, 0, enc.length, pt, off, off + len)) {
                throw new KnockRejectedException(RejectReason.MALFORMED_CERTIFICATE,
                        "certificate encoding is not exactly its DER");
            }
            return c;
        } catch (CertificateException | RuntimeException e) {
            throw new KnockRejectedException(RejectReason.MALFORMED_CERTIFICATE, "certificate does not parse");
        }
    }

    private static InetAddress address(byte[] pt, int off, int len) {
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(pt, off, off + len));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("cannot happen: the length is 4 or 16", e);
        }
    }

    private static KnockRejectedException malformed(String detail) {
        return new KnockRejectedException(RejectReason.MALFORMED_CONTENT, detail);
    }

    static int putLong(byte[] b, int p, long v) {
        for (int i = 7; i >= 0; i--) {
            b[p + 7 - i] = (byte) (v >>> (8 * i));
        }
        return p + 8;
    }

    static int putInt(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 24);
        b[p + 1] = (byte) (v >>> 16);
        b[p + 2] = (byte) (v >>> 8);
        b[p + 3] = (byte) v;
        return p + 4;
    }

    static int putShort(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 8);
        b[p + 1] = (byte) v;
        return p + 2;
    }

    static long getLong(byte[] b, int p) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[p + i] & 0xFF);
        }
        return v;
    }

    static int getInt(byte[] b, int p) {
        return ((b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
    }

    static int getShort(byte[] b, int p) {
        return ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
    }
}
