package dev.certknock.benchmarks;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.agreement.ECDHBasicAgreement;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The bare crypto a knock costs, without certknock around it: the ceiling {@link KnockBenchmark} is
 * measured against. Elliptic-curve work goes through Bouncy Castle's lightweight API, as in the
 * protocol; AES-GCM is measured through both the JDK and Bouncy Castle, because BC's HPKE runs
 * {@link GCMBlockCipher} internally. JDK {@code SHA256withECDSA} is there for comparison.
 *
 * <p>Every public key is decoded from its bytes inside the measured call, as a server must for each
 * knock (the ephemeral key is new every time, and the client key comes out of a certificate). This
 * matters: Bouncy Castle keeps precomputed tables on a point object and, once a point has been used a
 * few times, switches it to a faster fixed-point algorithm, so a benchmark that reuses one key object
 * measures a cache the server never hits. {@link #ecdsaP256VerifyBcCachedKey} shows that effect on
 * purpose: it is what caching the client's decoded key would buy.
 *
 * <p>The AES-GCM benchmarks decrypt (what a server does), with a new key per knock as HPKE has one:
 * the JDK cipher object is reused and re-initialised, as a server would keep one per thread; the BC
 * cipher is created per call, as BC's HPKE does for every context.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PrimitivesBaseline {

    /** About the size of a knock's signed transcript and of its sealed content. */
    static final int MESSAGE_SIZE = 700;

    /** HPKE's additional data in a P-256 knock: 10-byte header and 65-byte encapsulated key. */
    static final int AAD_SIZE = 75;

    private ECDomainParameters p256;
    private ECPrivateKeyParameters p256Private;
    private byte[] p256PeerPoint;
    private X25519PrivateKeyParameters x25519Private;
    private byte[] x25519PeerKey;

    private byte[] message;
    private byte[] messageSha256;
    private byte[] ecdsaPublicPoint;
    private ECPublicKeyParameters ecdsaCachedKey;
    private BigInteger ecdsaR;
    private BigInteger ecdsaS;
    private byte[] ed25519PublicKey;
    private byte[] ed25519Signature;
    private PublicKey jdkEcPublic;
    private byte[] jdkEcdsaSignature;
    private Signature jdkEcdsaVerifier;

    private byte[] aesKey;
    private byte[] gcmNonce;
    private byte[] aad;
    private byte[] gcmCiphertext;
    private Cipher jdkGcm;

    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException, InvalidCipherTextException {
        SecureRandom random = new SecureRandom();
        // The curve Bouncy Castle's HPKE and PublicKeyFactory use for P-256: the optimised custom curve.
        X9ECParameters curve = CustomNamedCurves.getByName("P-256");
        p256 = new ECDomainParameters(curve.getCurve(), curve.getG(), curve.getN(), curve.getH());
        ECKeyPairGenerator generator = new ECKeyPairGenerator();
        generator.init(new ECKeyGenerationParameters(p256, random));
        p256Private = (ECPrivateKeyParameters) generator.generateKeyPair().getPrivate();
        p256PeerPoint = ((ECPublicKeyParameters) generator.generateKeyPair().getPublic()).getQ().getEncoded(false);
        x25519Private = new X25519PrivateKeyParameters(random);
        x25519PeerKey = new X25519PrivateKeyParameters(random).generatePublicKey().getEncoded();

        message = new byte[MESSAGE_SIZE];
        random.nextBytes(message);
        messageSha256 = MessageDigest.getInstance("SHA-256").digest(message);

        AsymmetricCipherKeyPair ecdsaPair = generator.generateKeyPair();
        ecdsaCachedKey = (ECPublicKeyParameters) ecdsaPair.getPublic();
        ecdsaPublicPoint = ecdsaCachedKey.getQ().getEncoded(false);
        ECDSASigner ecdsaSigner = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
        ecdsaSigner.init(true, ecdsaPair.getPrivate());
        BigInteger[] rs = ecdsaSigner.generateSignature(messageSha256);
        ecdsaR = rs[0];
        ecdsaS = rs[1];

        Ed25519PrivateKeyParameters ed25519Private = new Ed25519PrivateKeyParameters(random);
        ed25519PublicKey = ed25519Private.generatePublicKey().getEncoded();
        Ed25519Signer edSigner = new Ed25519Signer();
        edSigner.init(true, ed25519Private);
        edSigner.update(message, 0, message.length);
        ed25519Signature = edSigner.generateSignature();

        KeyPairGenerator jdkGenerator = KeyPairGenerator.getInstance("EC", "SunEC");
        jdkGenerator.initialize(new ECGenParameterSpec("secp256r1"), random);
        KeyPair jdkPair = jdkGenerator.generateKeyPair();
        jdkEcPublic = jdkPair.getPublic();
        Signature jdkSigner = Signature.getInstance("SHA256withECDSA", "SunEC");
        jdkSigner.initSign(jdkPair.getPrivate(), random);
        jdkSigner.update(message);
        jdkEcdsaSignature = jdkSigner.sign();
        jdkEcdsaVerifier = Signature.getInstance("SHA256withECDSA", "SunEC");

        aesKey = new byte[16];
        gcmNonce = new byte[12];
        aad = new byte[AAD_SIZE];
        random.nextBytes(aesKey);
        random.nextBytes(gcmNonce);
        random.nextBytes(aad);
        jdkGcm = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
        jdkGcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(aesKey, "AES"), new GCMParameterSpec(128, gcmNonce));
        jdkGcm.updateAAD(aad);
        gcmCiphertext = jdkGcm.doFinal(message);

        checkBaseline();
    }

    /** Every benchmark must do the successful operation, not a cheap failure. */
    private void checkBaseline() throws GeneralSecurityException, InvalidCipherTextException {
        if (!ecdsaP256VerifyBc() || !ecdsaP256VerifyBcCachedKey() || !ed25519VerifyBc() || !ecdsaP256VerifyJdk()) {
            throw new IllegalStateException("a baseline signature does not verify");
        }
        if (!Arrays.equals(aesGcm128DecryptJdk(), message) || !Arrays.equals(aesGcm128DecryptBc(), message)) {
            throw new IllegalStateException("AES-GCM baseline does not round-trip");
        }
    }

    /** One P-256 ECDH agreement with a peer point decoded from its 65 bytes, as HPKE decapsulation does. */
    @Benchmark
    public BigInteger ecdhP256Bc() {
        ECPublicKeyParameters peer = new ECPublicKeyParameters(p256.getCurve().decodePoint(p256PeerPoint), p256);
        ECDHBasicAgreement agreement = new ECDHBasicAgreement();
        agreement.init(p256Private);
        return agreement.calculateAgreement(peer);
    }

    /** One X25519 agreement with a peer key read from its 32 bytes. */
    @Benchmark
    public byte[] x25519Bc() {
        X25519PublicKeyParameters peer = new X25519PublicKeyParameters(x25519PeerKey);
        X25519Agreement agreement = new X25519Agreement();
        agreement.init(x25519Private);
        byte[] secret = new byte[agreement.getAgreementSize()];
        agreement.calculateAgreement(peer, secret, 0);
        return secret;
    }

    /** One ECDSA P-256 verification of a precomputed 32-byte SHA-256 hash, the key decoded from its point. */
    @Benchmark
    public boolean ecdsaP256VerifyBc() {
        ECPublicKeyParameters key = new ECPublicKeyParameters(p256.getCurve().decodePoint(ecdsaPublicPoint), p256);
        return ecdsaVerify(key);
    }

    /**
     * The same verification with one key object for every call: Bouncy Castle promotes the point to
     * fixed-point multiplication after a few uses. Not a per-knock cost; the gain from caching the key.
     */
    @Benchmark
    public boolean ecdsaP256VerifyBcCachedKey() {
        return ecdsaVerify(ecdsaCachedKey);
    }

    private boolean ecdsaVerify(ECPublicKeyParameters key) {
        ECDSASigner verifier = new ECDSASigner();
        verifier.init(false, key);
        return verifier.verifySignature(messageSha256, ecdsaR, ecdsaS);
    }

    /** One Ed25519 verification of a 700-byte message (Ed25519 hashes it itself), the key decoded from 32 bytes. */
    @Benchmark
    public boolean ed25519VerifyBc() {
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, new Ed25519PublicKeyParameters(ed25519PublicKey));
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(ed25519Signature);
    }

    /** JDK (SunEC) SHA256withECDSA verification of the 700-byte message, for comparison. */
    @Benchmark
    public boolean ecdsaP256VerifyJdk() throws GeneralSecurityException {
        jdkEcdsaVerifier.initVerify(jdkEcPublic);
        jdkEcdsaVerifier.update(message);
        return jdkEcdsaVerifier.verify(jdkEcdsaSignature);
    }

    /** AES-128-GCM decryption of 700 bytes with 75 bytes of additional data, JDK (SunJCE). */
    @Benchmark
    public byte[] aesGcm128DecryptJdk() throws GeneralSecurityException {
        jdkGcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(aesKey, "AES"), new GCMParameterSpec(128, gcmNonce));
        jdkGcm.updateAAD(aad);
        return jdkGcm.doFinal(gcmCiphertext);
    }

    /** The same decryption through Bouncy Castle's GCMBlockCipher, set up the way BC's HPKE sets it up. */
    @Benchmark
    public byte[] aesGcm128DecryptBc() throws InvalidCipherTextException {
        GCMModeCipher gcm = GCMBlockCipher.newInstance(AESEngine.newInstance());
        gcm.init(false, new ParametersWithIV(new KeyParameter(aesKey), gcmNonce));
        gcm.processAADBytes(aad, 0, aad.length);
        byte[] plaintext = new byte[gcm.getOutputSize(gcmCiphertext.length)];
        int written = gcm.processBytes(gcmCiphertext, 0, gcmCiphertext.length, plaintext, 0);
        gcm.doFinal(plaintext, written);
        return plaintext;
    }
}
