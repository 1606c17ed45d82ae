package dev.certknock.ca.pki;

import dev.certknock.ca.CaException;
import dev.certknock.ca.store.AtomicFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.nio.file.Path;
import java.util.List;

/**
 * PKCS#12 bundles through the JDK's "PKCS12" key store, whose defaults in JDK 17 are what OpenSSL 3 reads
 * without {@code -legacy}: keys and certificates under PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an
 * HMAC-SHA256 integrity MAC.
 */
public final class Bundles {

    private Bundles() {
    }

    /** Writes a new bundle (0600) holding the key under {@code alias} with its certificate chain, leaf first. */
    public static void write(Path file, String alias, PrivateKey key, List<X509Certificate> chain, char[] password) {
        AtomicFiles.requireAbsent(file);
        byte[] der;
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(alias, Pki.portable(key), password, chain.toArray(new Certificate[0]));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ks.store(out, password);
            der = out.toByteArray();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make the PKCS#12 bundle " + file, e);
        }
        AtomicFiles.writeNew(file, der, AtomicFiles.SECRET);
    }

    /** Loads a bundle; a wrong password is {@link CaException.Kind#BAD_CREDENTIALS}. */
    public static KeyStore read(byte[] der, char[] password, Path source) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(new ByteArrayInputStream(der), password);
            return ks;
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException || String.valueOf(e.getMessage()).contains("password")) {
                throw new CaException(CaException.Kind.BAD_CREDENTIALS,
                        "wrong password for the PKCS#12 bundle " + source + ": give the password it was made with");
            }
            throw CaException.badInput(source + " is not a readable PKCS#12 bundle: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw CaException.badInput(source + " is not a readable PKCS#12 bundle: " + e.getMessage());
        }
    }

    /** The private key under {@code alias}. */
    public static PrivateKey key(KeyStore ks, String alias, char[] password, Path source) {
        try {
            return (PrivateKey) ks.getKey(alias, password);
        } catch (UnrecoverableKeyException e) {
            throw new CaException(CaException.Kind.BAD_CREDENTIALS, "wrong password for the key in " + source);
        } catch (GeneralSecurityException e) {
            throw CaException.badInput("cannot read the key in " + source + ": " + e.getMessage());
        }
    }
}
