package dev.certknock.server.crl;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Internal: turns a CRL body that is PEM ({@code -----BEGIN X509 CRL-----}, RFC 7468) into DER; DER passes through. */
final class PemCrl {

    private static final String BEGIN = "-----BEGIN X509 CRL-----";
    private static final String END = "-----END X509 CRL-----";

    private PemCrl() {
    }

    /**
     * @throws IllegalArgumentException if the body is PEM but not exactly one well-formed X509 CRL block; no other
     *     exception escapes for any input
     */
    static byte[] toDer(byte[] body) {
        try {
            return decode(body);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("PEM body could not be decoded: " + CrlParser.describe(e), e);
        }
    }

    private static byte[] decode(byte[] body) {
        int start = 0;
        while (start < body.length && isSpace(body[start])) {
            start++;
        }
        if (start == body.length || body[start] != '-') {
            return body; // DER starts with 0x30; anything else is the store's to refuse
        }
        String text = new String(body, start, body.length - start, StandardCharsets.US_ASCII);
        if (!text.startsWith(BEGIN)) {
            throw new IllegalArgumentException("PEM body is not an X509 CRL (expected " + BEGIN + ")");
        }
        int end = text.indexOf(END);
        if (end < 0) {
            throw new IllegalArgumentException("PEM body has no " + END + " line");
        }
        if (!text.substring(end + END.length()).isBlank()) {
            throw new IllegalArgumentException("PEM body has data after " + END);
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(text.substring(BEGIN.length(), end));
            if (der.length == 0) {
                throw new IllegalArgumentException("PEM body is empty");
            }
            return der;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("PEM body is not valid Base64: " + e.getMessage(), e);
        }
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }
}
