package dev.certknock.protocol.knock;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.SignatureException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;

/**
 * Seals knocks from one client credential to one server key. The caller never supplies a nonce, an
 * ephemeral key or an HPKE info string: each {@link #seal} draws a fresh 16-byte nonce and fresh
 * ephemeral key material from the random source, and reads the time from the clock (UTC milliseconds,
 * whatever the local time zone). It seals knock v2 unless {@link #withVersion} says otherwise; a v2 knock must
 * declare the address it is sent from. Thread-safe.
 */
public final class KnockSealer {

    private final ClientCredential credential;
    private final ServerPublicKey serverKey;
    private final Clock clock;
    private final SecureRandom random;
    private final List<byte[]> certificates;
    private final KnockVersion version;

    /**
     * @param clock the time source; use {@link Clock#systemUTC()} outside tests
     * @param random the randomness for nonces and ephemeral keys; use a new {@link SecureRandom} outside tests
     */
    public KnockSealer(ClientCredential credential, ServerPublicKey serverKey, Clock clock, SecureRandom random) {
        this(credential, serverKey, clock, random, KnockVersion.V2);
    }

    private KnockSealer(ClientCredential credential, ServerPublicKey serverKey, Clock clock, SecureRandom random,
            KnockVersion version) {
        this.version = Objects.requireNonNull(version, "version");
        this.credential = Objects.requireNonNull(credential, "credential");
        this.serverKey = Objects.requireNonNull(serverKey, "serverKey");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
        List<byte[]> certs = new ArrayList<>();
        for (X509Certificate c : credential.chain()) {
            try {
                certs.add(c.getEncoded());
            } catch (CertificateEncodingException e) {
                throw new IllegalArgumentException("a certificate of the chain cannot be encoded", e);
            }
        }
        this.certificates = List.copyOf(certs);
    }

    /** A sealer with the system UTC clock and a new SecureRandom. */
    public static KnockSealer create(ClientCredential credential, ServerPublicKey serverKey) {
        return new KnockSealer(credential, serverKey, Clock.systemUTC(), new SecureRandom());
    }

    /**
     * A sealer of the same credential, key, clock and randomness for another protocol version: {@link KnockVersion#V1}
     * only for a server whose operator still accepts it.
     */
    public KnockSealer withVersion(KnockVersion other) {
        return other == version ? this : new KnockSealer(credential, serverKey, clock, random, other);
    }

    public KnockVersion version() {
        return version;
    }

    /** The size the datagram for this request will have. */
    public int sealedSize(KnockRequest request) {
        return KnockFormat.HEADER_SIZE + serverKey.suite().encSize() + KnockFormat.AEAD_TAG_SIZE
                + KnockPlaintext.unsignedSize(request, certificates) + KnockFormat.SIGNATURE_SIZE;
    }

    /**
     * Seals a knock.
     *
     * @throws IllegalArgumentException when the datagram would exceed 1232 bytes (the message says
     *     which part is too big)
     * @throws GeneralSecurityException when the signer fails (a token that refuses, for example)
     */
    public SealedKnock seal(KnockRequest request) throws GeneralSecurityException {
        Objects.requireNonNull(request, "request");
        if (version.bindsAddress() && request.declaredIpv4().isEmpty() && request.declaredIpv6().isEmpty()) {
            throw new IllegalArgumentException("a knock v2 declares the address it is sent from (the server opens "
                    + "nothing for a source the knock does not sign): declare the route's local address, or the "
                    + "address a server reply reported");
        }
        checkSize(request);
        byte[] nonce = new byte[KnockFormat.NONCE_SIZE];
        byte[] ikmE = new byte[32];
        synchronized (random) {
            random.nextBytes(nonce);
            random.nextBytes(ikmE);
        }
        long timestamp = clock.millis();
        Setup setup = setup(version, serverKey, ikmE);
        java.util.Arrays.fill(ikmE, (byte) 0);
        byte[] content = KnockPlaintext.encodeUnsigned(timestamp, nonce, request, certificates);
        byte[] signature = credential.signer().sign(
                Transcript.of(version, serverKey.spkiSha256(), setup.prefix(), content, content.length));
        if (signature == null || signature.length != KnockFormat.SIGNATURE_SIZE) {
            throw new SignatureException("the signer returned " + (signature == null ? "nothing" : signature.length
                    + " bytes") + " instead of a 64-byte signature");
        }
        byte[] plaintext = new byte[content.length + signature.length];
        System.arraycopy(content, 0, plaintext, 0, content.length);
        System.arraycopy(signature, 0, plaintext, content.length, signature.length);
        byte[] datagram = setup.seal(plaintext);
        return new SealedKnock(datagram, timestamp, request, serverKey, version,
                version.bindsAddress() ? ReplyKey.exportFrom(setup.context()) : null);
    }

    /** The header and encapsulated key, and the HPKE context they belong to. */
    private record Setup(byte[] prefix, HPKEContextWithEncapsulation context) {
        byte[] seal(byte[] plaintext) {
            byte[] ciphertext;
            try {
                ciphertext = context.seal(prefix, plaintext);
            } catch (InvalidCipherTextException e) {
                throw new IllegalStateException("AES-GCM sealing failed", e);
            }
            byte[] datagram = new byte[prefix.length + ciphertext.length];
            System.arraycopy(prefix, 0, datagram, 0, prefix.length);
            System.arraycopy(ciphertext, 0, datagram, prefix.length, ciphertext.length);
            return datagram;
        }
    }

    /** HPKE base-mode setup with the ephemeral key derived from {@code ikmE} (RFC 9180 DeriveKeyPair). */
    private static Setup setup(KnockVersion version, ServerPublicKey serverKey, byte[] ikmE) {
        KnockSuite suite = serverKey.suite();
        HPKE hpke = suite.hpke();
        AsymmetricCipherKeyPair ephemeral = hpke.deriveKeyPair(ikmE);
        HPKEContextWithEncapsulation ctx = hpke.setupBaseS(serverKey.hpkeKey(), version.hpkeInfo(), ephemeral);
        byte[] enc = ctx.getEncapsulation();
        byte[] prefix = new byte[KnockFormat.HEADER_SIZE + enc.length];
        prefix[0] = (byte) version.wireId();
        prefix[1] = (byte) suite.wireId();
        System.arraycopy(serverKey.spkiSha256(), 0, prefix, 2, KnockFormat.KEY_ID_SIZE);
        System.arraycopy(enc, 0, prefix, KnockFormat.HEADER_SIZE, enc.length);
        return new Setup(prefix, ctx);
    }

    /**
     * Seals arbitrary plaintext as a datagram of this version, without signing it: for tests that must
     * produce well-sealed packets with altered or malformed content. Not part of the API.
     */
    static byte[] sealRawForTest(KnockVersion version, ServerPublicKey serverKey, byte[] ikmE, byte[] plaintext) {
        return setup(version, serverKey, ikmE).seal(plaintext);
    }

    private void checkSize(KnockRequest request) {
        int size = sealedSize(request);
        if (size <= KnockFormat.MAX_DATAGRAM_SIZE) {
            return;
        }
        int chainBytes = 1;
        StringBuilder parts = new StringBuilder();
        for (int i = 0; i < certificates.size(); i++) {
            chainBytes += 2 + certificates.get(i).length;
            parts.append(i == 0 ? "leaf " : ", intermediate ").append(certificates.get(i).length);
        }
        int fixed = size - chainBytes;
        throw new IllegalArgumentException("the knock would be " + size + " bytes, over the "
                + KnockFormat.MAX_DATAGRAM_SIZE + "-byte limit: the certificate chain takes " + chainBytes
                + " bytes (" + parts + "), everything else " + fixed + " bytes ("
                + request.grants().size() + " grants). Leave out intermediates the server already trusts, "
                + "or issue a smaller certificate (P-256 or Ed25519, fewer extensions, shorter names).");
    }
}
