package dev.certknock.ca.store;

import dev.certknock.ca.CaException;
import dev.certknock.ca.pki.Pki;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Private keys at rest: PKCS#8 encrypted with a password (PBES2: PBKDF2 with HMAC-SHA256 and AES-256-CBC),
 * PEM "ENCRYPTED PRIVATE KEY" as {@code openssl pkey} reads it, in a file created 0600.
 */
public final class KeyFiles {

    /**
     * PBKDF2 iterations. OpenSSL 3 uses 2048 for PKCS#12; 200,000 costs a password guess about 0.1 s of
     * one core here and a CA command the same once.
     */
    public static final int ITERATIONS = 200_000;

    private KeyFiles() {
    }

    /** The PEM text of {@code key} encrypted with {@code password}. */
    public static byte[] encryptedPem(PrivateKey key, char[] password) {
        try {
            OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                    .setPRF(PKCS8Generator.PRF_HMACSHA256)
                    .setIterationCount(ITERATIONS)
                    .setPassword(password)
                    .setProvider(Pki.PROVIDER)
                    .build();
            PemObject pem = new JcaPKCS8Generator(Pki.portable(key), encryptor).generate();
            return Pki.pem(pem).getBytes(StandardCharsets.US_ASCII);
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot encrypt the private key", e);
        }
    }

    /** Writes {@code key} encrypted into a new file, 0600 from its creation. */
    public static void writeEncrypted(Path file, PrivateKey key, char[] password) {
        AtomicFiles.writeNew(file, encryptedPem(key, password), AtomicFiles.SECRET);
    }

    /** Reads an encrypted private key; a wrong password is a {@link CaException.Kind#BAD_CREDENTIALS}. */
    public static PrivateKey readEncrypted(Path file, char[] password) {
        Object parsed;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            parsed = p.readObject();
        } catch (IOException e) {
            throw CaException.failure("cannot read the private key " + file + ": " + e);
        }
        if (!(parsed instanceof PKCS8EncryptedPrivateKeyInfo encrypted)) {
            throw CaException.badInput(file + " is not an encrypted PKCS#8 private key (PEM 'ENCRYPTED PRIVATE KEY')");
        }
        try {
            var info = encrypted.decryptPrivateKeyInfo(
                    new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(Pki.PROVIDER).build(password));
            return new JcaPEMKeyConverter().setProvider(Pki.PROVIDER).getPrivateKey(info);
        } catch (Exception e) {
            // Any failure here (bad padding, garbage after decryption) means the password does not open the key.
            throw new CaException(CaException.Kind.BAD_CREDENTIALS,
                    "wrong password for the private key " + file + ": give the password it was created with");
        }
    }
}
