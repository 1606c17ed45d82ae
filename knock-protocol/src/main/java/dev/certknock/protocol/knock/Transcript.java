package dev.certknock.protocol.knock;

/**
 * The bytes a client signs: label, SHA-256 of the server's SubjectPublicKeyInfo, header, encapsulated
 * key, and the sealed content up to the signature. Changing any byte of the datagram, or re-sealing
 * the content for another server, changes the transcript.
 */
final class Transcript {

    private Transcript() {
    }

    static byte[] of(KnockVersion version, byte[] serverSpkiSha256, byte[] authenticatedPrefix, byte[] content,
            int contentLength) {
        byte[] label = version.signatureLabel();
        int labelLength = label.length;
        byte[] t = new byte[labelLength + 32 + authenticatedPrefix.length + contentLength];
        int p = 0;
        System.arraycopy(label, 0, t, p, labelLength);
        p += labelLength;
        System.arraycopy(serverSpkiSha256, 0, t, p, 32);
        p += 32;
        System.arraycopy(authenticatedPrefix, 0, t, p, authenticatedPrefix.length);
        p += authenticatedPrefix.length;
        System.arraycopy(content, 0, t, p, contentLength);
        return t;
    }
}
