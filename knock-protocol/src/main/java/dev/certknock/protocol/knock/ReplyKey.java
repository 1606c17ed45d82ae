package dev.certknock.protocol.knock;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.hpke.HPKEContext;

/**
 * The AES-128-GCM key of a v2 knock's reply: exported from the knock's own HPKE context (RFC 9180
 * section 5.3), so only the server that opened the knock and the client that sealed it hold it. A reply
 * datagram is {@code 0x82 | nonce (12, random) | AES-128-GCM(plaintext) with the 0x82 byte as additional
 * data}. The nonce is random rather than counted because a server may, rarely, answer one knock twice.
 */
final class ReplyKey {

    private static final int TAG_BITS = 128;

    private final byte[] key;

    private ReplyKey(byte[] key) {
        this.key = key;
    }

    static ReplyKey exportFrom(HPKEContext context) {
        return new ReplyKey(context.export(KnockFormat.REPLY_EXPORT_CONTEXT, KnockFormat.REPLY_KEY_SIZE));
    }

    byte[] seal(byte[] plaintext, byte[] nonce) {
        if (nonce.length != KnockFormat.REPLY_NONCE_SIZE) {
            throw new IllegalArgumentException("a reply nonce has 12 bytes");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(new byte[] {(byte) KnockFormat.REPLY_V2});
            byte[] ct = c.doFinal(plaintext);
            byte[] out = new byte[1 + nonce.length + ct.length];
            out[0] = (byte) KnockFormat.REPLY_V2;
            System.arraycopy(nonce, 0, out, 1, nonce.length);
            System.arraycopy(ct, 0, out, 1 + nonce.length, ct.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is missing from this JDK", e);
        }
    }

    /** The plaintext, or empty when the datagram is not a reply sealed under this key. */
    Optional<byte[]> open(byte[] buffer, int offset, int length) {
        int min = 1 + KnockFormat.REPLY_NONCE_SIZE + TAG_BITS / 8;
        if (length < min || length > 128 || (buffer[offset] & 0xFF) != KnockFormat.REPLY_V2) {
            return Optional.empty();
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS,
                    Arrays.copyOfRange(buffer, offset + 1, offset + 1 + KnockFormat.REPLY_NONCE_SIZE)));
            c.updateAAD(buffer, offset, 1);
            int start = offset + 1 + KnockFormat.REPLY_NONCE_SIZE;
            return Optional.of(c.doFinal(buffer, start, offset + length - start));
        } catch (javax.crypto.AEADBadTagException e) {
            return Optional.empty();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is missing from this JDK", e);
        }
    }

    @Override
    public String toString() {
        return "ReplyKey[redacted]";
    }
}
