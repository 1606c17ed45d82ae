package dev.certknock.protocol.grant;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Builds DER by hand, as upper-case hex, for tests that need encodings the codec itself would never write.
 * Lengths are computed, so a test states only the structure it means.
 */
final class Der {

    private static final HexFormat HEX = HexFormat.of().withUpperCase();

    private Der() {
    }

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** Identifier octet {@code tag}, DER length, then the concatenated contents. */
    static String tlv(int tag, String... contents) {
        String content = String.join("", contents).replace(" ", "");
        return String.format("%02X", tag) + length(content.length() / 2) + content;
    }

    static String length(int length) {
        if (length < 0x80) {
            return String.format("%02X", length);
        }
        if (length < 0x100) {
            return String.format("81%02X", length);
        }
        return String.format("82%04X", length);
    }

    static String seq(String... contents) {
        return tlv(0x30, contents);
    }

    static String integer(long value) {
        return tlv(0x02, HEX.formatHex(BigInteger.valueOf(value).toByteArray()));
    }

    static String enumerated(long value) {
        return tlv(0x0A, HEX.formatHex(BigInteger.valueOf(value).toByteArray()));
    }

    static String utf8(String text) {
        return tlv(0x0C, HEX.formatHex(text.getBytes(StandardCharsets.UTF_8)));
    }

    static String octets(String hex) {
        return tlv(0x04, hex);
    }

    /** Context-specific tag {@code [number]}, primitive or constructed. */
    static String ctx(int number, boolean constructed, String... contents) {
        return tlv(0x80 | (constructed ? 0x20 : 0) | number, contents);
    }

    /** A PortGrant SEQUENCE without lastPort. */
    static String grant(int protocol, long firstPort) {
        return seq(enumerated(protocol), integer(firstPort));
    }

    /** A PortGrant SEQUENCE with lastPort. */
    static String grant(int protocol, long firstPort, long lastPort) {
        return seq(enumerated(protocol), integer(firstPort), integer(lastPort));
    }

    /** A CertknockGrants SEQUENCE whose grants are tcp/22, followed by {@code fields}. */
    static String withSsh(String... fields) {
        String[] all = new String[fields.length + 1];
        all[0] = seq(grant(6, 22));
        System.arraycopy(fields, 0, all, 1, fields.length);
        return seq(all);
    }
}
