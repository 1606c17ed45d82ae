package dev.certknock.client.identity;

import dev.certknock.protocol.knock.ClientCredential;
import dev.certknock.protocol.knock.KnockSigner;
import dev.certknock.protocol.knock.KnockSigners;
import dev.certknock.protocol.knock.SignatureScheme;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Who knocks: the {@link ClientCredential} that signs knocks (the key and the chain sent in each knock, leaf
 * first, self-signed roots left out) and the CA certificates a server certificate must chain to.
 *
 * <p>A bundle's self-signed certificates (the root of the key's chain and any trusted certificate entries) are
 * the {@linkplain #trustAnchors() trust anchors}: the client trusts a server certificate only when it chains to
 * one of them. Other CA certificates in the bundle are kept as {@linkplain #intermediates() intermediates} for
 * building that chain. Immutable and thread-safe; the password arrays passed in are not kept.
 */
public final class ClientIdentity {

    private final ClientCredential credential;
    private final List<X509Certificate> trustAnchors;
    private final List<X509Certificate> intermediates;

    private ClientIdentity(ClientCredential credential, List<X509Certificate> trustAnchors,
            List<X509Certificate> intermediates) {
        this.credential = credential;
        this.trustAnchors = List.copyOf(trustAnchors);
        this.intermediates = List.copyOf(intermediates);
    }

    /**
     * Loads the only private key of a PKCS#12 bundle, its chain and the bundle's CA certificates, as the JDK's
     * {@code KeyStore "PKCS12"} gives them. The common bundle (HMAC-SHA256 MAC, PBES2 with PBKDF2-HMAC-SHA256
     * and AES) is read by a faster reader with the same checks; any other, and any failure, goes through the
     * JDK's key store.
     *
     * @param bundle the PKCS#12 file
     * @param password its password (not kept; the caller clears it)
     * @return the identity
     * @throws IdentityException when the bundle cannot be read or used (its reason says why)
     */
    public static ClientIdentity fromPkcs12(Path bundle, char[] password) throws IdentityException {
        return fromPkcs12(bundle, password, null);
    }

    /**
     * Loads a PKCS#12 bundle; {@code alias} picks the key entry when the bundle holds several (null: the only one).
     * The same password opens the file and the key, as PKCS#12 tools make them.
     *
     * @param bundle the PKCS#12 file
     * @param password its password (not kept; the caller clears it)
     * @param alias the key entry to use, or null when the bundle holds one
     * @return the identity
     * @throws IdentityException when the bundle cannot be read or used (its reason says why)
     */
    public static ClientIdentity fromPkcs12(Path bundle, char[] password, String alias) throws IdentityException {
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(password, "password");
        byte[] der;
        try {
            der = Files.readAllBytes(bundle);
        } catch (NoSuchFileException e) {
            throw new IdentityException(IdentityException.Reason.UNREADABLE, "bundle " + bundle + " does not exist", e);
        } catch (IOException e) {
            throw new IdentityException(IdentityException.Reason.UNREADABLE,
                    "bundle " + bundle + " cannot be read: " + e.getMessage(), e);
        }
        // The common bundle, read faster (Pkcs12Reader: same checks, the MAC first); anything else, and every
        // failure, through the JDK's key store, whose checks and messages are the reference.
        if (Pkcs12Reader.open(der, password, alias) instanceof Pkcs12Reader.Opened opened) {
            List<X509Certificate> chain = opened.chain();
            return build(signerFor(opened.key(), chain.get(0), null), opened.key(), chain);
        }
        KeyStore store;
        try {
            store = KeyStore.getInstance("PKCS12");
            store.load(new ByteArrayInputStream(der), password);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new IdentityException(IdentityException.Reason.WRONG_PASSWORD,
                        "the password does not open bundle " + bundle, e);
            }
            throw new IdentityException(IdentityException.Reason.MALFORMED,
                    "bundle " + bundle + " is not a readable PKCS#12 file: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IdentityException(IdentityException.Reason.MALFORMED,
                    "bundle " + bundle + " cannot be loaded: " + e.getMessage(), e);
        }
        return fromKeyStore(store, alias, password, "bundle " + bundle);
    }

    /**
     * Uses a key entry of any loaded {@link KeyStore}, including a PKCS#11 token's ({@code KeyStore "PKCS11"}):
     * a key that cannot leave its provider signs through JCA with the key store's provider
     * ({@link KnockSigners#viaJca}), any other through Bouncy Castle's lightweight API.
     *
     * @param alias the key entry, or null when the store holds exactly one
     * @param keyPassword the key's password (a token's PIN is given when loading the store; pass it or an empty
     *     array here)
     * @param store a loaded key store
     * @return the identity
     * @throws IdentityException when the entry is missing, ambiguous or cannot sign knocks
     */
    public static ClientIdentity fromKeyStore(KeyStore store, String alias, char[] keyPassword) throws IdentityException {
        Objects.requireNonNull(store, "store");
        return fromKeyStore(store, alias, keyPassword, "key store " + store.getType());
    }

    private static ClientIdentity fromKeyStore(KeyStore store, String alias, char[] keyPassword, String what)
            throws IdentityException {
        try {
            List<String> keyAliases = new ArrayList<>();
            List<X509Certificate> extra = new ArrayList<>();
            for (String a : Collections.list(store.aliases())) {
                if (store.isKeyEntry(a)) {
                    keyAliases.add(a);
                } else if (store.getCertificate(a) instanceof X509Certificate c) {
                    extra.add(c);
                }
            }
            String chosen;
            if (alias != null) {
                if (!keyAliases.contains(alias)) {
                    throw new IdentityException(IdentityException.Reason.NO_KEY, what + " has no private key named '"
                            + alias + "'" + (keyAliases.isEmpty() ? "" : "; it has " + keyAliases));
                }
                chosen = alias;
            } else if (keyAliases.isEmpty()) {
                throw new IdentityException(IdentityException.Reason.NO_KEY, what + " holds no private key");
            } else if (keyAliases.size() > 1) {
                throw new IdentityException(IdentityException.Reason.AMBIGUOUS_KEY, what + " holds "
                        + keyAliases.size() + " private keys " + keyAliases + ": name the one to use");
            } else {
                chosen = keyAliases.get(0);
            }
            Key key;
            try {
                key = store.getKey(chosen, keyPassword);
            } catch (UnrecoverableKeyException e) {
                throw new IdentityException(IdentityException.Reason.WRONG_PASSWORD,
                        "the password does not unlock the private key '" + chosen + "' of " + what, e);
            }
            if (!(key instanceof PrivateKey privateKey)) {
                throw new IdentityException(IdentityException.Reason.NO_KEY, "entry '" + chosen + "' of " + what
                        + " is not a private key");
            }
            Certificate[] chain = store.getCertificateChain(chosen);
            if (chain == null || chain.length == 0) {
                throw new IdentityException(IdentityException.Reason.NO_KEY, "the private key '" + chosen + "' of "
                        + what + " has no certificate");
            }
            List<X509Certificate> certificates = new ArrayList<>();
            for (Certificate c : chain) {
                if (!(c instanceof X509Certificate x)) {
                    throw new IdentityException(IdentityException.Reason.UNSUPPORTED_KEY, "the chain of '" + chosen
                            + "' in " + what + " holds a non-X.509 certificate");
                }
                certificates.add(x);
            }
            certificates.addAll(extra);
            KnockSigner signer = signerFor(privateKey, certificates.get(0), store.getProvider());
            return build(signer, privateKey, certificates);
        } catch (KeyStoreException | java.security.NoSuchAlgorithmException e) {
            throw new IdentityException(IdentityException.Reason.MALFORMED, what + " cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * A key and certificates already in memory: the client certificate first, then any intermediates and CA
     * certificates (self-signed ones become trust anchors, the rest travel in the knock).
     *
     * @param key the client's private key (EC P-256 or Ed25519)
     * @param certificates the client certificate first, then intermediates and CA certificates
     * @return the identity
     * @throws IdentityException when the key cannot sign knocks or does not match the certificate
     */
    public static ClientIdentity of(PrivateKey key, List<X509Certificate> certificates) throws IdentityException {
        Objects.requireNonNull(key, "key");
        requireCertificates(certificates);
        return build(signerFor(key, certificates.get(0), null), key, certificates);
    }

    /**
     * A custom signer (a hardware key behind another API) with its certificates, as for {@link #of(PrivateKey, List)}.
     *
     * @param signer signs knocks with the client certificate's key
     * @param certificates the client certificate first, then intermediates and CA certificates
     * @return the identity
     * @throws IdentityException when the signer does not match the certificate
     */
    public static ClientIdentity of(KnockSigner signer, List<X509Certificate> certificates) throws IdentityException {
        Objects.requireNonNull(signer, "signer");
        requireCertificates(certificates);
        return build(signer, null, certificates);
    }

    /**
     * A copy that also trusts these CA certificates (for a bundle without its root, for example).
     *
     * @param anchors CA certificates ({@link dev.certknock.client.CertificateFiles#read} reads a file)
     * @return the new identity
     */
    public ClientIdentity withTrustAnchors(Collection<X509Certificate> anchors) {
        Objects.requireNonNull(anchors, "anchors");
        Set<X509Certificate> all = new LinkedHashSet<>(trustAnchors);
        all.addAll(anchors);
        return new ClientIdentity(credential, new ArrayList<>(all), intermediates);
    }

    /**
     * The signer and the chain sent in each knock.
     *
     * @return the credential (leaf first, no self-signed root)
     */
    public ClientCredential credential() {
        return credential;
    }

    /**
     * The client certificate.
     *
     * @return the leaf
     */
    public X509Certificate certificate() {
        return credential.certificate();
    }

    /**
     * The self-signed CA certificates a server certificate must chain to.
     *
     * @return the trust anchors
     */
    public List<X509Certificate> trustAnchors() {
        return trustAnchors;
    }

    /**
     * CA certificates that are not self-signed, for building a server certificate's chain.
     *
     * @return the intermediates
     */
    public List<X509Certificate> intermediates() {
        return intermediates;
    }

    @Override
    public String toString() {
        return "ClientIdentity[" + certificate().getSubjectX500Principal().getName() + ", " + credential.signer()
                + ", " + trustAnchors.size() + " trust anchor(s)]";
    }

    private static void requireCertificates(List<X509Certificate> certificates) {
        Objects.requireNonNull(certificates, "certificates");
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("no certificates: the client certificate must come first");
        }
    }

    /** {@code key}: the signer's private key when there is one (its public key is then derived, see below), or null. */
    private static ClientIdentity build(KnockSigner signer, PrivateKey key, List<X509Certificate> certificates)
            throws IdentityException {
        X509Certificate leaf = certificates.get(0);
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(leaf);
        Set<X509Certificate> anchors = new LinkedHashSet<>();
        Set<X509Certificate> others = new LinkedHashSet<>();
        for (X509Certificate c : certificates.subList(1, certificates.size())) {
            if (isSelfSigned(c)) {
                anchors.add(c);
            } else {
                others.add(c);
            }
        }
        // The chain that travels: the leaf's issuers in order, up to (not including) a self-signed root.
        X509Certificate current = leaf;
        while (true) {
            X509Certificate issuer = issuerOf(current, others);
            if (issuer == null || chain.contains(issuer)) {
                break;
            }
            chain.add(issuer);
            current = issuer;
        }
        verifyKeyMatches(signer, key, leaf);
        ClientCredential credential;
        try {
            credential = new ClientCredential(signer, chain);
        } catch (IllegalArgumentException e) {
            throw new IdentityException(IdentityException.Reason.UNSUPPORTED_KEY, e.getMessage(), e);
        }
        return new ClientIdentity(credential, new ArrayList<>(anchors), new ArrayList<>(others));
    }

    private static X509Certificate issuerOf(X509Certificate cert, Collection<X509Certificate> candidates) {
        for (X509Certificate c : candidates) {
            if (c.getSubjectX500Principal().equals(cert.getIssuerX500Principal()) && c != cert) {
                try {
                    cert.verify(c.getPublicKey());
                    return c;
                } catch (GeneralSecurityException | RuntimeException e) {
                    // not this one
                }
            }
        }
        return null;
    }

    static boolean isSelfSigned(X509Certificate c) {
        if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
            return false;
        }
        try {
            c.verify(c.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static KnockSigner signerFor(PrivateKey key, X509Certificate leaf, java.security.Provider provider)
            throws IdentityException {
        SignatureScheme scheme = SignatureScheme.of(leaf.getPublicKey());
        if (scheme == null) {
            throw new IdentityException(IdentityException.Reason.UNSUPPORTED_KEY, "the client certificate's key is "
                    + leaf.getPublicKey().getAlgorithm() + "; knocks are signed with EC P-256 or Ed25519 keys only");
        }
        if (key.getEncoded() == null) {
            return KnockSigners.viaJca(key, scheme, provider);
        }
        try {
            return KnockSigners.forPrivateKey(key);
        } catch (InvalidKeyException e) {
            throw new IdentityException(IdentityException.Reason.UNSUPPORTED_KEY, e.getMessage(), e);
        }
    }

    /**
     * Catches a key that belongs to another certificate. A key whose encoding is readable (a bundle's, a key in
     * memory) has its public key derived from it and compared with the certificate's ({@link KeyPairCheck}: one
     * fixed-point multiplication in Bouncy Castle, constant-time, then a constant-time comparison). A key that
     * cannot leave its provider (a token's), or a custom signer, makes one test signature, verified with the
     * certificate's key. Either way a mismatch gets the same message.
     */
    private static void verifyKeyMatches(KnockSigner signer, PrivateKey key, X509Certificate leaf)
            throws IdentityException {
        if (signer.scheme() != SignatureScheme.of(leaf.getPublicKey())) {
            throw new IdentityException(IdentityException.Reason.UNSUPPORTED_KEY, "the private key is "
                    + signer.scheme() + " but the client certificate's key is " + SignatureScheme.of(leaf.getPublicKey()));
        }
        KeyPairCheck.Result derived = key == null ? KeyPairCheck.Result.UNKNOWN : KeyPairCheck.check(key, leaf.getPublicKey());
        if (derived == KeyPairCheck.Result.MATCHES) {
            return;
        }
        if (derived == KeyPairCheck.Result.DIFFERS) {
            throw notTheCertificatesKey(leaf);
        }
        byte[] probe = "certknock client key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try {
            byte[] signature = signer.sign(probe);
            Signature verifier = Signature.getInstance(signer.scheme() == SignatureScheme.ED25519
                    ? "Ed25519" : "SHA256withECDSAinP1363Format");
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw notTheCertificatesKey(leaf);
            }
        } catch (GeneralSecurityException e) {
            throw new IdentityException(IdentityException.Reason.UNSUPPORTED_KEY,
                    "the private key cannot sign: " + e.getMessage(), e);
        }
    }

    private static IdentityException notTheCertificatesKey(X509Certificate leaf) {
        return new IdentityException(IdentityException.Reason.UNSUPPORTED_KEY,
                "the private key does not belong to the client certificate " + leaf.getSubjectX500Principal().getName());
    }
}
