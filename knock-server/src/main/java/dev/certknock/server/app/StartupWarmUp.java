package dev.certknock.server.app;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.GrantsExtensionChecker;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.protocol.knock.ClientCredential;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockRejectedException;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockSigners;
import dev.certknock.protocol.knock.ServerPrivateKey;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the first real knock after start as fast as the rest: before capture starts, runs the costly parts
 * of a valid knock's path many times on throwaway material that exists only in memory. A CA and two client
 * certificates (ECDSA P-256 and Ed25519, with a grants extension) are made for this run alone; knocks sealed
 * to each of the server's own keys are opened and verified ({@link KnockOpener#openAndVerify}: frame, HPKE,
 * certificate parsing, signature), and certification paths to the throwaway CA are built with the same
 * provider and checker the chain validation uses. Nothing is trusted, recorded, counted, logged per knock
 * or written to the firewall: the throwaway CA is never a trust anchor of the server, so the material could
 * not open anything even if it leaked. A failure here is logged and never stops the server.
 */
final class StartupWarmUp {

    private static final Logger LOG = LoggerFactory.getLogger(StartupWarmUp.class);
    private static final Provider BC = new BouncyCastleProvider();
    private static final SecureRandom RANDOM = new SecureRandom();

    private StartupWarmUp() {
    }

    /** What a warm-up did: knocks opened and verified, certification paths built, and how long it took. */
    record Result(int knocks, int paths, Duration took) {
    }

    /**
     * Runs the warm-up: {@code rounds} open-and-verify passes per server key and client key type, and as many
     * path builds per client key type.
     */
    static Result run(List<ServerPrivateKey> keys, int rounds, Clock clock) {
        long start = System.nanoTime();
        try {
            Instant now = clock.instant();
            KeyPair caKeys = generate("EC");
            X509Certificate ca = certificate("CN=certknock warm-up CA (throwaway)", caKeys, "CN=certknock warm-up CA (throwaway)",
                    caKeys.getPrivate(), true, now);
            KnockOpener opener = KnockOpener.of(keys);
            KnockRequest request = KnockRequest.of(1, List.of(PortGrant.single(Protocol.TCP, 9)))
                    .withDeclaredIpv4((java.net.Inet4Address) java.net.InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1}));
            int passes = 0;
            int paths = 0;
            for (String type : List.of("EC", "Ed25519")) {
                KeyPair clientKeys = generate(type);
                X509Certificate leaf = certificate("CN=certknock warm-up client (throwaway)", clientKeys,
                        "CN=certknock warm-up CA (throwaway)", caKeys.getPrivate(), false, now);
                ClientCredential credential = new ClientCredential(KnockSigners.forPrivateKey(clientKeys.getPrivate()),
                        List.of(leaf));
                for (ServerPrivateKey key : keys) {
                    KnockSealer sealer = new KnockSealer(credential, key.publicKey(), clock, RANDOM);
                    for (int i = 0; i < rounds; i++) {
                        opener.openAndVerify(sealer.seal(request).datagram());
                        passes++;
                    }
                }
                for (int i = 0; i < rounds; i++) {
                    buildPath(leaf, ca, now);
                    paths++;
                }
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            LOG.info("warm-up: {} knocks opened and verified and {} certification paths built on throwaway material in {} ms",
                    passes, paths, took.toMillis());
            return new Result(passes, paths, took);
        } catch (GeneralSecurityException | KnockRejectedException | OperatorCreationException | java.io.IOException
                | RuntimeException e) {
            LOG.warn("warm-up skipped (knocks are unaffected; the first may be slower): {}", e.toString());
            return new Result(0, 0, Duration.ofNanos(System.nanoTime() - start));
        }
    }

    private static void buildPath(X509Certificate leaf, X509Certificate ca, Instant at) throws GeneralSecurityException {
        X509CertSelector target = new X509CertSelector();
        target.setCertificate(leaf);
        PKIXBuilderParameters params = new PKIXBuilderParameters(Set.of(new TrustAnchor(ca, null)), target);
        params.setRevocationEnabled(false);
        params.setDate(Date.from(at));
        params.addCertPathChecker(new GrantsExtensionChecker());
        params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(List.of(leaf)), BC));
        CertPathBuilder.getInstance("PKIX", BC).build(params);
    }

    private static KeyPair generate(String type) throws GeneralSecurityException {
        if (type.equals("EC")) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        }
        return KeyPairGenerator.getInstance(type).generateKeyPair();
    }

    private static X509Certificate certificate(String subject, KeyPair subjectKeys, String issuer, PrivateKey issuerKey,
            boolean ca, Instant now) throws GeneralSecurityException, OperatorCreationException {
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                new BigInteger(64, RANDOM).add(BigInteger.ONE), Date.from(now.minusSeconds(60)),
                Date.from(now.plusSeconds(600)), new X500Name(subject), subjectKeys.getPublic());
        try {
            if (ca) {
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            } else {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
                b.addExtension(Extension.extendedKeyUsage, false,
                        new DERSequence(KeyPurposeId.getInstance(CertknockOids.KP_CLIENT)));
                b.addExtension(GrantsExtension.toExtension(CertknockGrants.of(PortGrant.single(Protocol.TCP, 9))));
            }
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("cannot encode a warm-up certificate extension", e);
        }
        String algorithm = issuerKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "Ed25519";
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
    }
}
