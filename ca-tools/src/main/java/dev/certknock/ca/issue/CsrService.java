package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.ca.pki.Bundles;
import dev.certknock.ca.pki.KeyType;
import dev.certknock.ca.pki.Names;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.pki.Pki;
import dev.certknock.ca.store.AtomicFiles;
import dev.certknock.ca.store.KeyFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The client's side of the CSR path: make a key (kept, encrypted) and a request for the CA; then put the key
 * and the certificate the CA returns into the PKCS#12 bundle the knock client reads.
 */
public final class CsrService {

    private final SecureRandom random;

    public CsrService(SecureRandom random) {
        this.random = random;
    }

    /** Makes a key ({@code keyOut}, encrypted, 0600) and a PEM request ({@code csrOut}) for CN={@code name}. */
    public String makeRequest(String name, String keyType, Path keyOut, Path csrOut, char[] keyPassword) {
        KeyType type = KeyType.parse(keyType, Set.of(KeyType.P256, KeyType.ED25519), "client key");
        var subject = Names.commonName(name, "the client name");
        IssueService.requireBundlePassword(keyPassword);
        AtomicFiles.requireAbsent(keyOut);
        AtomicFiles.requireAbsent(csrOut);
        KeyPair keys = type.generate(random);
        PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic())
                .build(Pki.signer(keys.getPrivate()));
        KeyFiles.writeEncrypted(keyOut, keys.getPrivate(), keyPassword);
        AtomicFiles.writeNew(csrOut, Pki.pem(csr).getBytes(StandardCharsets.US_ASCII), AtomicFiles.PUBLIC);
        return type.label();
    }

    /** Bundles a key made by {@link #makeRequest} with the certificate and chain the CA returned. */
    public void bundle(Path keyFile, char[] keyPassword, Path certificateAndChain, Path out, char[] bundlePassword) {
        IssueService.requireBundlePassword(bundlePassword);
        AtomicFiles.requireAbsent(out);
        PrivateKey key = KeyFiles.readEncrypted(keyFile, keyPassword);
        List<X509Certificate> chain = PemFiles.certificates(certificateAndChain);
        X509Certificate leaf = chain.get(0);
        if (!matches(key, leaf)) {
            throw CaException.badInput("the certificate in " + certificateAndChain + " is not for the key in " + keyFile
                    + ": give the certificate the CA issued for this key's request");
        }
        String alias = leaf.getSubjectX500Principal().getName();
        Bundles.write(out, alias, key, chain, bundlePassword);
    }

    private static boolean matches(PrivateKey key, X509Certificate cert) {
        try {
            byte[] probe = "certknock key check".getBytes(StandardCharsets.US_ASCII);
            var signer = Pki.signer(key);
            signer.getOutputStream().write(probe);
            byte[] sig = signer.getSignature();
            var verifier = new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder().setProvider(Pki.PROVIDER)
                    .build(cert.getPublicKey()).get(signer.getAlgorithmIdentifier());
            verifier.getOutputStream().write(probe);
            return verifier.verify(sig);
        } catch (Exception e) {
            return false;
        }
    }
}
