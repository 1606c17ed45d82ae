package dev.certknock.client.token;

import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.client.identity.IdentityException.Reason;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.ProviderException;
import java.security.Security;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Objects;

/**
 * A PKCS#11 token (a smart card, a YubiKey's PIV application, an HSM, SoftHSM) opened through the JDK's SunPKCS11
 * provider and logged in: its keys sign knocks without ever leaving it.
 *
 * <p>The token is found by its label (the slot is looked up in the module, see {@link Pkcs11Slots}); a key by the
 * label of its certificate, which is the alias SunPKCS11's key store gives a key and certificate sharing a CKA_ID.
 * SunPKCS11 shows only keys that have a certificate, so {@link #generateKey} stores a self-signed placeholder
 * certificate with a new key until {@link #installCertificate} replaces it with the one the CA issued.
 * The PIN arrays passed in are not kept.
 *
 * <p>PKCS#11 logs in a process, not a provider: while one Pkcs11Token of this process is open on a token, another
 * opened on it does not check its PIN. {@link #close()} logs out.
 */
public final class Pkcs11Token implements AutoCloseable {

    /** The subject's organizational unit that marks the placeholder certificate {@link #generateKey} stores. */
    public static final String PLACEHOLDER_OU = "certknock placeholder until the CA's certificate is installed";

    private final Path module;
    private final String label;
    private final Provider provider;
    private final KeyStore store;

    private Pkcs11Token(Path module, String label, Provider provider, KeyStore store) {
        this.module = module;
        this.label = label;
        this.provider = provider;
        this.store = store;
    }

    /**
     * Opens the token labelled {@code tokenLabel} in {@code module} and logs in with {@code pin}.
     *
     * @param module the PKCS#11 module (a shared library, e.g. {@code /usr/lib/softhsm/libsofthsm2.so})
     * @param tokenLabel the token's label, as {@code pkcs11-tool --list-slots} shows it
     * @param pin the user PIN; the caller clears it afterwards
     * @return the open, logged-in token; {@link #close()} logs out
     * @throws IdentityException when the module cannot be loaded, no token has that label, or the PIN is wrong
     */
    public static Pkcs11Token open(Path module, String tokenLabel, char[] pin) throws IdentityException {
        return openSlot(module, tokenLabel, pin);
    }

    private static Pkcs11Token openSlot(Path module, String tokenLabel, char[] pin) throws IdentityException {
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(tokenLabel, "tokenLabel");
        Objects.requireNonNull(pin, "pin");
        if (!Files.isRegularFile(module)) {
            throw new IdentityException(Reason.UNREADABLE, "the PKCS#11 module " + module + " does not exist: give "
                    + "the library's path, e.g. /usr/lib/softhsm/libsofthsm2.so or "
                    + "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so");
        }
        String path = module.toAbsolutePath().toString();
        List<Pkcs11Slots.Slot> slots;
        try {
            slots = Pkcs11Slots.list(path);
        } catch (Pkcs11Slots.TokenAccessException e) {
            throw new IdentityException(Reason.UNREADABLE, e.getMessage(), e);
        }
        List<Pkcs11Slots.Slot> matching = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (Pkcs11Slots.Slot s : slots) {
            labels.add("'" + s.label() + "'");
            if (s.label().equals(tokenLabel)) {
                matching.add(s);
            }
        }
        if (matching.isEmpty()) {
            throw new IdentityException(Reason.UNREADABLE, "no token labelled '" + tokenLabel + "' in " + module
                    + (labels.isEmpty() ? " (it sees no token: is it plugged in?)" : "; its tokens: " + String.join(", ", labels)));
        }
        if (matching.size() > 1) {
            throw new IdentityException(Reason.AMBIGUOUS_KEY, matching.size() + " tokens in " + module
                    + " are labelled '" + tokenLabel + "': give each a distinct label");
        }
        Provider provider = configure(path, matching.get(0).id());
        KeyStore store;
        try {
            store = KeyStore.getInstance("PKCS11", provider);
            store.load(null, pin);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new IdentityException(Reason.WRONG_PASSWORD, "the PIN does not open token '" + tokenLabel + "'", e);
            }
            throw new IdentityException(Reason.UNREADABLE, "cannot log in to token '" + tokenLabel + "': "
                    + rootMessage(e), e);
        } catch (GeneralSecurityException | ProviderException e) {
            throw new IdentityException(Reason.UNREADABLE, "cannot open token '" + tokenLabel + "': " + rootMessage(e), e);
        }
        return new Pkcs11Token(module, tokenLabel, provider, store);
    }

    /**
     * A SunPKCS11 provider for one slot. EC keys it generates are private token objects that only sign, sensitive
     * and never extractable (CKA_SENSITIVE true, CKA_EXTRACTABLE false).
     */
    private static Provider configure(String library, long slot) throws IdentityException {
        StringBuilder config = new StringBuilder("--name = certknock\n")
                .append("library = \"").append(library.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n")
                .append("slot = ").append(slot).append('\n')
                .append("attributes(generate, CKO_PRIVATE_KEY, CKK_EC) = {\n")
                .append("  CKA_TOKEN = true\n  CKA_PRIVATE = true\n  CKA_SENSITIVE = true\n")
                .append("  CKA_EXTRACTABLE = false\n  CKA_SIGN = true\n  CKA_DECRYPT = false\n  CKA_UNWRAP = false\n")
                .append("  CKA_DERIVE = false\n");
        config.append("}\n");
        Provider base = Security.getProvider("SunPKCS11");
        if (base == null) {
            throw new IdentityException(Reason.UNREADABLE, "this Java runtime has no SunPKCS11 provider "
                    + "(module jdk.crypto.cryptoki): PKCS#11 tokens need it");
        }
        try {
            return base.configure(config.toString());
        } catch (java.security.InvalidParameterException | ProviderException e) {
            throw new IdentityException(Reason.UNREADABLE, "SunPKCS11 cannot use slot " + slot + " of " + library + ": "
                    + rootMessage(e), e);
        }
    }

    /**
     * The token's label.
     *
     * @return the label this token was opened by
     */
    public String label() {
        return label;
    }

    /**
     * The SunPKCS11 provider bound to this token (logged in).
     *
     * @return the provider; its keys sign on the token
     */
    public Provider provider() {
        return provider;
    }

    /**
     * The labels of the token's keys that have a certificate.
     *
     * @return the labels, in the token's order
     * @throws IdentityException when the token refuses or cannot do it (its reason and message say which and why)
     */
    public List<String> keyLabels() throws IdentityException {
        try {
            List<String> out = new ArrayList<>();
            for (String a : Collections.list(store.aliases())) {
                if (store.isKeyEntry(a)) {
                    out.add(a);
                }
            }
            Collections.sort(out);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IdentityException(Reason.UNREADABLE, "cannot list the keys of token '" + label + "': "
                    + e.getMessage(), e);
        }
    }

    /**
     * The identity of the key labelled {@code keyLabel} (null: the token's only key) with the certificates stored
     * with it. Refuses a key that still has {@link #generateKey}'s placeholder certificate.
     *
     * @param keyLabel the key's (its certificate's) label, or null for the token's only key
     * @return the identity, signing on the token
     * @throws IdentityException when the token refuses or cannot do it (its reason and message say which and why)
     */
    public ClientIdentity identity(String keyLabel) throws IdentityException {
        String chosen = keyLabel;
        if (chosen == null) {
            List<String> keys = keyLabels();
            if (keys.size() != 1) {
                throw new IdentityException(keys.isEmpty() ? Reason.NO_KEY : Reason.AMBIGUOUS_KEY, "token '" + label
                        + "' holds " + (keys.isEmpty() ? "no key with a certificate" : keys.size() + " keys " + keys
                        + ": name one (--key-label)"));
            }
            chosen = keys.get(0);
        }
        requireKey(chosen);
        X509Certificate leaf = certificate(chosen);
        if (isPlaceholder(leaf)) {
            throw new IdentityException(Reason.NO_KEY, "key '" + chosen + "' on token '" + label + "' has no "
                    + "certificate from the CA yet, only the placeholder 'knock-ca csr' stored: install the one the CA "
                    + "issued (knock-ca bundle --pkcs11-module ... --cert FILE)");
        }
        try {
            return ClientIdentity.fromKeyStore(store, chosen, null);
        } catch (IdentityException e) {
            throw new IdentityException(e.reason(), "token '" + label + "': " + e.getMessage(), e);
        }
    }

    /**
     * Generates a P-256 key on the token, labelled {@code keyLabel}, that never leaves it, and stores a self-signed
     * placeholder certificate (CN={@code commonName}) with it so that the token's key store shows it. Needs
     * Bouncy Castle's {@code bcpkix-jdk18on} on the class path (an optional dependency of this library: only the
     * CA tools make keys; knocking with a token needs none of it).
     *
     * @param keyLabel the label of the new key and its placeholder certificate
     * @param commonName the placeholder certificate's common name
     * @return the new key (a handle; it signs through {@link #provider()})
     * @throws IdentityException when the token refuses or cannot do it (its reason and message say which and why)
     */
    public KeyPair generateKey(String keyLabel, String commonName) throws IdentityException {
        Objects.requireNonNull(keyLabel, "keyLabel");
        if (keyLabels().contains(keyLabel)) {
            throw new IdentityException(Reason.AMBIGUOUS_KEY, "token '" + label + "' already has a key labelled '"
                    + keyLabel + "': choose another label (the existing key is kept)");
        }
        KeyPair keys;
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", provider);
            g.initialize(new ECGenParameterSpec("secp256r1"));
            keys = g.generateKeyPair();
        } catch (GeneralSecurityException | ProviderException e) {
            throw new IdentityException(Reason.UNSUPPORTED_KEY, "token '" + label + "' cannot generate a P-256 key: "
                    + rootMessage(e), e);
        }
        try {
            X509Certificate placeholder = PlaceholderCertificate.make(commonName, PLACEHOLDER_OU, keys, provider);
            store.setKeyEntry(keyLabel, keys.getPrivate(), null, new Certificate[] {placeholder});
        } catch (GeneralSecurityException | IllegalArgumentException | ProviderException e) {
            throw new IdentityException(Reason.UNSUPPORTED_KEY, "cannot store the new key on token '" + label + "': "
                    + rootMessage(e), e);
        }
        return keys;
    }

    /**
     * Stores the certificate the CA issued and its chain with the key labelled {@code keyLabel}, replacing the
     * certificate there (the placeholder). Refuses a certificate that is not for that key.
     *
     * @param keyLabel the key's label
     * @param chain the issued certificate first, then its CA certificates
     * @throws IdentityException when the token refuses or cannot do it (its reason and message say which and why)
     */
    public void installCertificate(String keyLabel, List<X509Certificate> chain) throws IdentityException {
        Objects.requireNonNull(keyLabel, "keyLabel");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("no certificate");
        }
        requireKey(keyLabel);
        X509Certificate current = certificate(keyLabel);
        if (!current.getPublicKey().equals(chain.get(0).getPublicKey())) {
            throw new IdentityException(Reason.UNSUPPORTED_KEY, "the certificate " + chain.get(0)
                    .getSubjectX500Principal().getName() + " is not for key '" + keyLabel + "' on token '" + label
                    + "': give the certificate the CA issued for this key's request");
        }
        try {
            PrivateKey key = (PrivateKey) store.getKey(keyLabel, null);
            store.setKeyEntry(keyLabel, key, null, chain.toArray(new X509Certificate[0]));
        } catch (GeneralSecurityException | ProviderException e) {
            throw new IdentityException(Reason.UNREADABLE, "cannot store the certificate on token '" + label + "': "
                    + rootMessage(e), e);
        }
    }

    /**
     * The key labelled {@code keyLabel}: a handle that signs through {@link #provider()}; its material stays on the
     * token ({@code getEncoded()} is null for a sensitive key).
     *
     * @param keyLabel the key's label
     * @return the key handle
     * @throws IdentityException when the token refuses or cannot do it (its reason and message say which and why)
     */
    public PrivateKey privateKey(String keyLabel) throws IdentityException {
        requireKey(keyLabel);
        try {
            return (PrivateKey) store.getKey(keyLabel, null);
        } catch (GeneralSecurityException | ProviderException e) {
            throw new IdentityException(Reason.UNREADABLE, "cannot read key '" + keyLabel + "' of token '" + label
                    + "': " + rootMessage(e), e);
        }
    }

    /**
     * Whether this is the placeholder certificate {@link #generateKey} stores.
     *
     * @param c a certificate read from a token
     * @return true for a placeholder
     */
    public static boolean isPlaceholder(X509Certificate c) {
        return c.getSubjectX500Principal().getName().contains("OU=" + PLACEHOLDER_OU)
                && c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
    }

    private void requireKey(String keyLabel) throws IdentityException {
        List<String> keys = keyLabels();
        if (!keys.contains(keyLabel)) {
            throw new IdentityException(Reason.NO_KEY, "token '" + label + "' has no key labelled '" + keyLabel + "'"
                    + (keys.isEmpty() ? " (it has no key with a certificate)" : "; its keys: " + keys));
        }
    }

    private X509Certificate certificate(String keyLabel) throws IdentityException {
        try {
            if (store.getCertificate(keyLabel) instanceof X509Certificate x) {
                return x;
            }
        } catch (GeneralSecurityException e) {
            throw new IdentityException(Reason.UNREADABLE, "cannot read the certificate of key '" + keyLabel + "': "
                    + e.getMessage(), e);
        }
        throw new IdentityException(Reason.NO_KEY, "key '" + keyLabel + "' on token '" + label + "' has no X.509 certificate");
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage();
        return m == null ? c.getClass().getSimpleName() : m;
    }

    /** Logs out of the token: its keys no longer sign in this process until it is opened again. */
    @Override
    public void close() {
        try {
            ((java.security.AuthProvider) provider).logout();
        } catch (javax.security.auth.login.LoginException | ProviderException e) {
            // already logged out, or the token is gone: nothing left to close
        }
    }

    @Override
    public String toString() {
        return "Pkcs11Token['" + label + "' in " + module + "]";
    }
}
