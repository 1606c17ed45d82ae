package dev.certknock.protocol.knock;

import org.bouncycastle.crypto.digests.SHA256Digest;

final class Digests {

    private Digests() {
    }

    static byte[] sha256(byte[] data) {
        return sha256(data, 0, data.length);
    }

    static byte[] sha256(byte[] data, int off, int len) {
        SHA256Digest d = new SHA256Digest();
        d.update(data, off, len);
        byte[] out = new byte[32];
        d.doFinal(out, 0);
        return out;
    }
}
