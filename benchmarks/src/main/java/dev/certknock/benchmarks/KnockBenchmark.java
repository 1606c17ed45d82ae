package dev.certknock.benchmarks;

import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.ClientCredential;
import dev.certknock.protocol.knock.KnockFormat;
import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRejectedException;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockSigners;
import dev.certknock.protocol.knock.OpenResult;
import dev.certknock.protocol.knock.RejectReason;
import dev.certknock.protocol.knock.SealedKnock;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.protocol.knock.UnverifiedKnock;
import dev.certknock.protocol.knock.VerifiedKnock;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The knock protocol end to end, per suite: what a client pays to seal a knock, what a server pays to
 * open a valid one, and what it pays to reject junk at each stage. The opener is stateless, so one
 * datagram sealed at setup is opened again and again.
 *
 * <p>Besides the five protocol operations, {@link #verifyOnly} and the two certificate-parsing
 * benchmarks split {@link #openAndVerify} into its parts: it is about {@link #openOnly} plus
 * {@link #verifyOnly}, and {@link #openOnly} contains one {@link #parseCertificateCached}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class KnockBenchmark {

    /**
     * The certknock grants extension of the brief's golden vector: tcp/22 and udp/8000-8100,
     * maxOpenSeconds 300, servers ["gw1.example.test"]. Gives the client certificate a realistic size.
     */
    private static final byte[] GRANTS_EXTENSION = HexFormat.of().parseHex(
            "302F301530060A0106020116300B0A011102021F4002021FA48002012CA1120C106777312E6578616D706C652E74657374");

    /** Seed for the junk datagram, so every run rejects the same bytes. */
    private static final long JUNK_SEED = 0x6365_7274_6b6e_6f63L;

    /** Server key type / client key type. */
    @Param({"P256/P256", "X25519/Ed25519"})
    public String keys;

    private KnockSealer sealer;
    private KnockOpener opener;
    private KnockRequest request;
    private byte[] datagram;
    private UnverifiedKnock opened;
    private byte[] junk;
    private byte[] corruptedCiphertext;
    private byte[] clientCertificateDer;

    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException, KnockRejectedException, java.net.UnknownHostException {
        String[] types = keys.split("/", -1);
        if (types.length != 2) {
            throw new IllegalArgumentException("keys must read <server key type>/<client key type>, not " + keys);
        }
        KeyType serverType = KeyType.valueOf(types[0].toUpperCase(Locale.ROOT));
        KeyType clientType = KeyType.valueOf(types[1].toUpperCase(Locale.ROOT));

        TestCa ca = TestCa.root("CN=certknock benchmark root", MutableClock.atSystemTime());
        IssuedCertificate server = ca.leaf("CN=gw1.example.test").keyType(serverType).dnsName("gw1.example.test")
                .keyUsage(serverType == KeyType.X25519 ? KeyUsage.keyAgreement
                        : KeyUsage.keyAgreement | KeyUsage.digitalSignature)
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        IssuedCertificate client = ca.leaf("CN=alice").keyType(clientType).keyUsage(KeyUsage.digitalSignature)
                .extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GRANTS_EXTENSION).build();
        ServerPrivateKey serverKey = ServerPrivateKey.of(server.privateKey(), server.certificate());
        ClientCredential credential = new ClientCredential(KnockSigners.forPrivateKey(client.privateKey()),
                client.chain());

        sealer = new KnockSealer(credential, serverKey.publicKey(), Clock.systemUTC(), new SecureRandom());
        opener = KnockOpener.of(serverKey);
        request = KnockRequest.of(30, List.of(PortGrant.parse("tcp/22")))
                .withDeclaredIpv4((java.net.Inet4Address) java.net.InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1}));
        datagram = sealer.seal(request).datagram();
        opened = opener.open(KnockFrame.parse(datagram));
        opened.verify(); // throws unless the sealed datagram is a valid knock
        clientCertificateDer = client.encoded();

        junk = new byte[KnockFormat.MAX_DATAGRAM_SIZE];
        new SplittableRandom(JUNK_SEED).nextBytes(junk);
        if (junk[0] == KnockFormat.VERSION_1 || junk[0] == KnockFormat.VERSION_2) {
            junk[0] ^= (byte) 0x80;
        }
        expectRejection(junk, RejectReason.UNSUPPORTED_VERSION);

        // Header and encapsulated key stay intact, so the server gets as far as the DH and the AEAD tag.
        corruptedCiphertext = datagram.clone();
        int prefix = KnockFormat.HEADER_SIZE + serverKey.publicKey().suite().encSize();
        corruptedCiphertext[prefix + (corruptedCiphertext.length - prefix) / 2] ^= 0x01;
        expectRejection(corruptedCiphertext, RejectReason.DECRYPTION_FAILED);
    }

    private void expectRejection(byte[] input, RejectReason expected) {
        OpenResult result = opener.tryOpen(input);
        if (!(result instanceof OpenResult.Rejected rejected) || rejected.reason() != expected) {
            throw new IllegalStateException("benchmark input should be rejected with " + expected + ", got " + result);
        }
    }

    /** Client side: nonce, ephemeral key, HPKE setup (one DH), signature, AES-GCM. */
    @Benchmark
    public SealedKnock seal() throws GeneralSecurityException {
        return sealer.seal(request);
    }

    /** Server side, valid knock: frame checks, HPKE open (one DH), strict parse, signature check. */
    @Benchmark
    public VerifiedKnock openAndVerify() throws KnockRejectedException {
        return opener.openAndVerify(datagram);
    }

    /** Frame checks, HPKE open and strict parse (certificates included); no signature check. */
    @Benchmark
    public UnverifiedKnock openOnly() throws KnockRejectedException {
        return opener.open(KnockFrame.parse(datagram));
    }

    /** The signature check alone, on a knock opened at setup: transcript, key conversion, verify. */
    @Benchmark
    public VerifiedKnock verifyOnly() throws KnockRejectedException {
        return opened.verify();
    }

    /** 1232 random bytes with a wrong version byte: rejected before any cryptography. */
    @Benchmark
    public OpenResult rejectJunkAtFrame() {
        return opener.tryOpen(junk);
    }

    /** A valid header and encapsulated key with a flipped ciphertext bit: costs one DH, then the tag fails. */
    @Benchmark
    public OpenResult rejectWellFormedJunkAtHpke() {
        return opener.tryOpen(corruptedCiphertext);
    }

    /**
     * The JDK's X.509 parser on the client certificate, as the knock parser calls it. The JDK keeps
     * recently parsed certificates in a cache keyed by their encoding, so the same certificate again is a
     * cache hit: what a returning client costs, and what {@link #openOnly} pays here.
     */
    @Benchmark
    public Certificate parseCertificateCached(CertificateParser parser) throws CertificateException {
        return parser.parse(clientCertificateDer);
    }

    /**
     * The same parse for a certificate the JVM has not seen: the last four bytes of the CA signature
     * change on every call, so the cache always misses (signatures are not checked by parsing). What a
     * first knock costs, or a flood of knocks sealed with made-up certificates.
     */
    @Benchmark
    public Certificate parseCertificateFresh(CertificateParser parser) throws CertificateException {
        return parser.parse(parser.nextUnseen());
    }

    /** Per-thread parsing state: CertificateFactory is not documented as thread-safe. */
    @State(Scope.Thread)
    public static class CertificateParser {

        private CertificateFactory factory;
        private byte[] unseen;
        private int counter;

        @Setup(Level.Trial)
        public void setUp(KnockBenchmark benchmark) throws CertificateException {
            factory = CertificateFactory.getInstance("X.509");
            unseen = benchmark.clientCertificateDer.clone();
            counter = System.identityHashCode(this);
        }

        Certificate parse(byte[] der) throws CertificateException {
            return factory.generateCertificate(new ByteArrayInputStream(der));
        }

        /** The certificate with a new value in the last four bytes of its signature. */
        byte[] nextUnseen() {
            int v = ++counter;
            int end = unseen.length;
            unseen[end - 4] = (byte) (v >>> 24);
            unseen[end - 3] = (byte) (v >>> 16);
            unseen[end - 2] = (byte) (v >>> 8);
            unseen[end - 1] = (byte) v;
            return unseen;
        }
    }
}
