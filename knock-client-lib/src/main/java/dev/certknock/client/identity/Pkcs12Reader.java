package dev.certknock.client.identity;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1Set;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.AuthenticatedSafe;
import org.bouncycastle.asn1.pkcs.CertBag;
import org.bouncycastle.asn1.pkcs.ContentInfo;
import org.bouncycastle.asn1.pkcs.EncryptedData;
import org.bouncycastle.asn1.pkcs.EncryptedPrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.EncryptionScheme;
import org.bouncycastle.asn1.pkcs.KeyDerivationFunc;
import org.bouncycastle.asn1.pkcs.MacData;
import org.bouncycastle.asn1.pkcs.PBES2Parameters;
import org.bouncycastle.asn1.pkcs.PBKDF2Params;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.Pfx;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.SafeBag;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.DigestInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.PBEParametersGenerator;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.generators.PKCS12ParametersGenerator;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.modes.CBCBlockCipher;
import org.bouncycastle.crypto.paddings.PKCS7Padding;
import org.bouncycastle.crypto.paddings.PaddedBufferedBlockCipher;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * Opens the common kind of PKCS#12 bundle (what {@code knock-ca}, the JDK 17+ and OpenSSL 3 write by default:
 * an HMAC-SHA256 integrity MAC, one PBES2-encrypted private key, certificates in a PBES2-encrypted or plain
 * part; PBKDF2 with HMAC-SHA256 and AES-CBC) with Bouncy Castle's lightweight API instead of the JDK's
 * {@code KeyStore "PKCS12"}, because that is where a knock's start-up time goes: the same three key derivations
 * with the same salts and iteration counts, but HMAC-SHA256 here keeps the hash states of the padded key
 * between PBKDF2 iterations (two SHA-256 compressions an iteration instead of the JDK's four).
 *
 * <p>The three derivations are independent, so the MAC's and the encrypted parts' run on a second thread while
 * the caller's derives the key's ({@link Derivations}). Same checks, stricter order: the MAC over the contents is
 * verified (constant-time) <em>before</em> anything
 * is decrypted or parsed as a certificate or key. Anything this reader does not handle exactly as the JDK's key
 * store would, or any check that fails, including a wrong password or a changed file, is {@link NotHandled}:
 * the caller then loads the bundle with the JDK's key store, which gives the usual errors. So this class can
 * only make a bundle load faster, never make one load that the JDK's key store would refuse, or give another
 * key or other certificates than it would. Nothing here keeps or prints the password.
 */
final class Pkcs12Reader {

    /** What the JDK's PKCS#12 key store accepts at most, for the MAC and for PBES2. */
    static final int MAX_ITERATIONS = 5_000_000;

    /** id-Ed25519 (RFC 8410), spelled out: its Bouncy Castle constant lives in bcutil, which this library does not need. */
    private static final ASN1ObjectIdentifier ID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");
    /** Oracle's "trusted key usage" bag attribute: makes a certificate a trusted entry in the JDK's key store. */
    private static final ASN1ObjectIdentifier TRUSTED_KEY_USAGE = new ASN1ObjectIdentifier("2.16.840.1.113894.746875.1.1");

    /** What came of reading a bundle. */
    sealed interface Outcome permits Opened, NotHandled {
    }

    /** The key and its certificate chain as the JDK's key store builds it: the key's certificate first. */
    record Opened(PrivateKey key, List<X509Certificate> chain) implements Outcome {
        Opened {
            Objects.requireNonNull(key, "key");
            chain = List.copyOf(chain);
        }
    }

    /** Not read here; {@code why} is for tests and debugging, and never holds the password. */
    record NotHandled(String why) implements Outcome {
    }

    private Pkcs12Reader() {
    }

    /**
     * Reads a bundle's only private key and its chain. The password is not kept; {@code alias} (null: any) must
     * be the key's friendly name exactly, as the JDK's key store lists it.
     */
    static Outcome open(byte[] der, char[] password, String alias) {
        Objects.requireNonNull(der, "der");
        Objects.requireNonNull(password, "password");
        if (password.length == 0) {
            return new NotHandled("an empty password (the JDK retries it in two encodings)");
        }
        byte[] macPassword = null;
        byte[] pbePassword = null;
        try {
            Pfx pfx = Pfx.getInstance(der);
            ContentInfo authSafe = pfx.getAuthSafe();
            if (!PKCSObjectIdentifiers.data.equals(authSafe.getContentType())) {
                return new NotHandled("contents not of type data");
            }
            byte[] authSafeOctets = ASN1OctetString.getInstance(authSafe.getContent()).getOctets();
            MacData macData = pfx.getMacData();
            if (macData == null) {
                return new NotHandled("no integrity MAC");
            }
            DigestInfo mac = macData.getMac();
            if (!NISTObjectIdentifiers.id_sha256.equals(mac.getAlgorithmId().getAlgorithm())
                    || !absentOrNull(mac.getAlgorithmId().getParameters())) {
                return new NotHandled("a MAC other than HMAC-SHA256");
            }
            int macIterations = iterations(macData.getIterationCount());
            if (macIterations < 0) {
                return new NotHandled("MAC iteration count out of range");
            }
            // 1. The structure, parsed but nothing decrypted: the plain parts' bags, the encrypted parts' schemes.
            List<SafeBag> keyBags = new ArrayList<>();
            List<SafeBag> certBags = new ArrayList<>();
            List<Pbes2> encryptedParts = new ArrayList<>();
            for (ContentInfo part : AuthenticatedSafe.getInstance(ASN1Sequence.getInstance(authSafeOctets)).getContentInfo()) {
                ASN1ObjectIdentifier type = part.getContentType();
                if (PKCSObjectIdentifiers.data.equals(type)) {
                    byte[] octets = ASN1OctetString.getInstance(part.getContent()).getOctets();
                    String refused = sortBags(ASN1Sequence.getInstance(octets), keyBags, certBags, true);
                    if (refused != null) {
                        return new NotHandled(refused);
                    }
                } else if (PKCSObjectIdentifiers.encryptedData.equals(type)) {
                    EncryptedData encrypted = EncryptedData.getInstance(part.getContent());
                    if (!PKCSObjectIdentifiers.data.equals(encrypted.getContentType())) {
                        return new NotHandled("encrypted contents not of type data");
                    }
                    Pbes2 scheme = Pbes2.of(encrypted.getEncryptionAlgorithm(), encrypted.getContent().getOctets());
                    if (scheme == null) {
                        return new NotHandled("certificates encrypted other than with PBES2 (PBKDF2-HMAC-SHA256, AES-CBC)");
                    }
                    encryptedParts.add(scheme);
                } else {
                    return new NotHandled("a part of type " + type);
                }
            }
            if (keyBags.size() != 1) {
                return new NotHandled(keyBags.size() + " private keys");
            }
            SafeBag keyBag = keyBags.get(0);
            byte[] keyId = localKeyId(keyBag);
            if (keyId == null) {
                return new NotHandled("a key without a local key id");
            }
            if (alias != null && !alias.equals(friendlyName(keyBag))) {
                return new NotHandled("the key's name is not the alias asked for");
            }
            EncryptedPrivateKeyInfo shrouded = EncryptedPrivateKeyInfo.getInstance(keyBag.getBagValue());
            Pbes2 keyScheme = Pbes2.of(shrouded.getEncryptionAlgorithm(), shrouded.getEncryptedData());
            if (keyScheme == null) {
                return new NotHandled("a key encrypted other than with PBES2 (PBKDF2-HMAC-SHA256, AES-CBC)");
            }
            // 2. The key derivations (the time a bundle takes to open), the MAC's and the encrypted parts' on a
            // second thread while this one derives the key's: independent computations from the password and
            // public salts. Nothing is decrypted until the MAC matched.
            macPassword = PBEParametersGenerator.PKCS12PasswordToBytes(password);
            pbePassword = PBEParametersGenerator.PKCS5PasswordToUTF8Bytes(password);
            Derivations derivations = Derivations.run(macPassword, macData.getSalt(), macIterations, encryptedParts,
                    keyScheme, pbePassword);
            try {
                // 3. The MAC, before anything is decrypted or believed.
                if (!macMatches(authSafeOctets, derivations.macKey(), mac.getDigest())) {
                    return new NotHandled("the MAC does not match (a wrong password or a changed file)");
                }
                // 4. The encrypted parts' bags: certificates only.
                for (int i = 0; i < encryptedParts.size(); i++) {
                    byte[] plain = encryptedParts.get(i).decrypt(derivations.partKeys().get(i));
                    if (plain == null) {
                        return new NotHandled("certificates encrypted under another password");
                    }
                    String refused = sortBags(ASN1Sequence.getInstance(plain), keyBags, certBags, false);
                    if (refused != null) {
                        return new NotHandled(refused);
                    }
                }
                return finish(keyId, keyScheme, derivations.keyKey(), certBags);
            } finally {
                derivations.clear();
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            // Malformed ASN.1 (Bouncy Castle throws IllegalArgumentException and friends), a bad certificate or key:
            // the JDK's key store reads the file again and says what is wrong in its words.
            return new NotHandled("unreadable here: " + e.getClass().getSimpleName());
        } finally {
            if (macPassword != null) {
                Arrays.fill(macPassword, (byte) 0);
            }
            if (pbePassword != null) {
                Arrays.fill(pbePassword, (byte) 0);
            }
        }
    }

    /** The key's certificate, the chain, and the key decrypted with its derived key. */
    private static Outcome finish(byte[] keyId, Pbes2 keyScheme, byte[] keyKey, List<SafeBag> certBags)
            throws GeneralSecurityException {
        // 5. The certificates, and the chain as the JDK's key store builds it (findMatchedCertificate, findIssuer).
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> all = new ArrayList<>();
        X509Certificate leaf = null;
        for (SafeBag bag : certBags) {
            CertBag certBag = CertBag.getInstance(bag.getBagValue());
            if (!PKCSObjectIdentifiers.x509Certificate.equals(certBag.getCertId())) {
                return new NotHandled("a certificate that is not X.509");
            }
            byte[] encoded = ASN1OctetString.getInstance(certBag.getCertValue()).getOctets();
            X509Certificate cert = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(encoded));
            all.add(cert);
            if (Arrays.equals(keyId, localKeyId(bag))) {
                if (leaf != null) {
                    return new NotHandled("several certificates with the key's local key id");
                }
                leaf = cert;
            }
        }
        if (leaf == null) {
            return new NotHandled("no certificate with the key's local key id");
        }
        List<X509Certificate> chain = chain(leaf, all);
        if (chain == null) {
            return new NotHandled("certificates whose chain needs the JDK's signature checks to order");
        }
        // 6. The key.
        byte[] pkcs8 = keyScheme.decrypt(keyKey);
        if (pkcs8 == null) {
            return new NotHandled("a key encrypted under another password");
        }
        try {
            ASN1ObjectIdentifier algorithm = PrivateKeyInfo.getInstance(pkcs8).getPrivateKeyAlgorithm().getAlgorithm();
            String keyAlgorithm;
            if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
                keyAlgorithm = "EC";
            } else if (ID_ED25519.equals(algorithm)) {
                keyAlgorithm = "Ed25519";
            } else {
                return new NotHandled("a key of type " + algorithm);
            }
            PrivateKey key = KeyFactory.getInstance(keyAlgorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            return new Opened(key, chain);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    private static byte[] macKey(byte[] password, byte[] salt, int iterations) {
        PKCS12ParametersGenerator generator = new PKCS12ParametersGenerator(SHA256Digest.newInstance());
        generator.init(password, salt, iterations);
        return ((KeyParameter) generator.generateDerivedMacParameters(256)).getKey();
    }

    private static boolean macMatches(byte[] content, byte[] macKey, byte[] expected) {
        HMac hmac = new HMac(SHA256Digest.newInstance());
        hmac.init(new KeyParameter(macKey));
        hmac.update(content, 0, content.length);
        byte[] actual = new byte[hmac.getMacSize()];
        hmac.doFinal(actual, 0);
        return java.security.MessageDigest.isEqual(actual, expected);
    }

    /**
     * A part or key encrypted with PBES2, PBKDF2-HMAC-SHA256 and AES-128/192/256-CBC: what is needed to derive
     * its key and decrypt it.
     */
    record Pbes2(byte[] salt, int iterations, int keyLength, byte[] iv, byte[] ciphertext) {

        /** The scheme of an encrypted part or key; null for any other scheme or parameters. */
        static Pbes2 of(AlgorithmIdentifier algorithm, byte[] ciphertext) {
            if (!PKCSObjectIdentifiers.id_PBES2.equals(algorithm.getAlgorithm())) {
                return null;
            }
            PBES2Parameters pbes2 = PBES2Parameters.getInstance(algorithm.getParameters());
            KeyDerivationFunc kdf = pbes2.getKeyDerivationFunc();
            if (!PKCSObjectIdentifiers.id_PBKDF2.equals(kdf.getAlgorithm())) {
                return null;
            }
            PBKDF2Params params = PBKDF2Params.getInstance(kdf.getParameters());
            AlgorithmIdentifier prf = params.getPrf();
            if (!PKCSObjectIdentifiers.id_hmacWithSHA256.equals(prf.getAlgorithm()) || !absentOrNull(prf.getParameters())) {
                return null;
            }
            EncryptionScheme scheme = pbes2.getEncryptionScheme();
            int keyLength;
            ASN1ObjectIdentifier cipher = scheme.getAlgorithm();
            if (NISTObjectIdentifiers.id_aes256_CBC.equals(cipher)) {
                keyLength = 32;
            } else if (NISTObjectIdentifiers.id_aes192_CBC.equals(cipher)) {
                keyLength = 24;
            } else if (NISTObjectIdentifiers.id_aes128_CBC.equals(cipher)) {
                keyLength = 16;
            } else {
                return null;
            }
            BigInteger declared = params.getKeyLength();
            if (declared != null && !declared.equals(BigInteger.valueOf(keyLength))) {
                return null;
            }
            byte[] iv = ASN1OctetString.getInstance(scheme.getParameters()).getOctets();
            int iterations = Pkcs12Reader.iterations(params.getIterationCount());
            if (iv.length != 16 || iterations < 0 || ciphertext.length == 0 || ciphertext.length % 16 != 0) {
                return null;
            }
            return new Pbes2(params.getSalt(), iterations, keyLength, iv, ciphertext);
        }

        /** PBKDF2-HMAC-SHA256: the AES key. */
        byte[] deriveKey(byte[] password) {
            PKCS5S2ParametersGenerator generator = new PKCS5S2ParametersGenerator(SHA256Digest.newInstance());
            generator.init(password, salt, iterations);
            return ((KeyParameter) generator.generateDerivedParameters(keyLength * 8)).getKey();
        }

        /** The plaintext; null when the padding is wrong (a part under another password: the JDK's key store says so). */
        byte[] decrypt(byte[] key) {
            PaddedBufferedBlockCipher aes = new PaddedBufferedBlockCipher(
                    CBCBlockCipher.newInstance(AESEngine.newInstance()), new PKCS7Padding());
            aes.init(false, new ParametersWithIV(new KeyParameter(key), iv));
            byte[] out = new byte[aes.getOutputSize(ciphertext.length)];
            try {
                int n = aes.processBytes(ciphertext, 0, ciphertext.length, out, 0);
                n += aes.doFinal(out, n);
                return Arrays.copyOf(out, n);
            } catch (InvalidCipherTextException e) {
                return null;
            } finally {
                Arrays.fill(out, (byte) 0);
            }
        }
    }

    /**
     * The bundle's key derivations, which are most of the time a bundle takes to open: the MAC's key and the
     * encrypted parts' keys on a second thread, the private key's on the caller's, so that two cores take about
     * three fifths of the time one would (the PKCS#12 derivation costs half a PBKDF2 one). Each is the same
     * computation as before, from the password and the bundle's own salts and iteration counts. The second
     * thread is joined before this returns, also when a derivation fails, so the caller may clear the password
     * arrays right after.
     */
    record Derivations(byte[] macKey, List<byte[]> partKeys, byte[] keyKey) {

        static Derivations run(byte[] macPassword, byte[] macSalt, int macIterations, List<Pbes2> parts, Pbes2 key,
                byte[] pbePassword) {
            byte[][] mac = new byte[1][];
            List<byte[]> partKeys = new ArrayList<>();
            Throwable[] failed = new Throwable[1];
            Runnable second = () -> {
                try {
                    mac[0] = Pkcs12Reader.macKey(macPassword, macSalt, macIterations);
                    for (Pbes2 part : parts) {
                        partKeys.add(part.deriveKey(pbePassword));
                    }
                } catch (RuntimeException | Error e) {
                    failed[0] = e; // rethrown on the caller's thread, never printed by this one
                }
            };
            byte[] keyKey;
            if (Runtime.getRuntime().availableProcessors() < 2) {
                second.run();
                keyKey = key.deriveKey(pbePassword);
            } else {
                Thread thread = new Thread(second, "certknock-pkcs12-kdf");
                thread.setDaemon(true);
                thread.start();
                try {
                    keyKey = key.deriveKey(pbePassword);
                } finally {
                    joinUninterruptibly(thread);
                }
            }
            if (failed[0] instanceof RuntimeException e) {
                throw e;
            }
            if (failed[0] instanceof Error e) {
                throw e;
            }
            return new Derivations(mac[0], partKeys, keyKey);
        }

        void clear() {
            Arrays.fill(macKey, (byte) 0);
            partKeys.forEach(k -> Arrays.fill(k, (byte) 0));
            Arrays.fill(keyKey, (byte) 0);
        }

        private static void joinUninterruptibly(Thread thread) {
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Sorts a SafeContents' bags; a message for anything else (other bag types, a key in an encrypted part). */
    private static String sortBags(ASN1Sequence safeContents, List<SafeBag> keyBags, List<SafeBag> certBags,
            boolean keysAllowed) {
        for (ASN1Encodable element : safeContents) {
            SafeBag bag = SafeBag.getInstance(element);
            ASN1ObjectIdentifier type = bag.getBagId();
            if (PKCSObjectIdentifiers.pkcs8ShroudedKeyBag.equals(type) && keysAllowed) {
                keyBags.add(bag);
            } else if (PKCSObjectIdentifiers.certBag.equals(type)) {
                if (attribute(bag, TRUSTED_KEY_USAGE) != null) {
                    return "a trusted certificate entry";
                }
                certBags.add(bag);
            } else {
                return "a bag of type " + type + (keysAllowed ? "" : " in an encrypted part");
            }
        }
        return null;
    }

    /**
     * The chain from the key's certificate as the JDK's key store builds it: each certificate's issuer is the
     * first certificate whose subject is the issuer's name and whose subject key id matches the authority key
     * id (or that has none), until a self-issued certificate or a repeat. Null when a self-issued certificate
     * shares its name with another one: the JDK's key store decides that case by checking signatures.
     */
    private static List<X509Certificate> chain(X509Certificate leaf, List<X509Certificate> all) {
        List<X509Certificate> chain = new ArrayList<>();
        X509Certificate cert = leaf;
        while (cert != null && !chain.contains(cert)) {
            chain.add(cert);
            if (cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
                for (X509Certificate other : all) {
                    if (!other.equals(cert) && other.getSubjectX500Principal().equals(cert.getSubjectX500Principal())) {
                        return null;
                    }
                }
                break;
            }
            cert = issuer(cert, all);
        }
        return chain;
    }

    private static X509Certificate issuer(X509Certificate cert, List<X509Certificate> all) {
        byte[] authorityKeyId = keyIdentifier(cert.getExtensionValue("2.5.29.35"), true);
        X509Certificate fallback = null;
        for (X509Certificate candidate : all) {
            if (!candidate.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
                continue;
            }
            if (authorityKeyId == null) {
                return candidate;
            }
            byte[] subjectKeyId = keyIdentifier(candidate.getExtensionValue("2.5.29.14"), false);
            if (subjectKeyId == null) {
                fallback = candidate;
            } else if (Arrays.equals(authorityKeyId, subjectKeyId)) {
                return candidate;
            }
        }
        return fallback;
    }

    /** The key identifier of an authority (or subject) key identifier extension's value; null if none. */
    private static byte[] keyIdentifier(byte[] extensionValue, boolean authority) {
        if (extensionValue == null) {
            return null;
        }
        try {
            byte[] inner = ASN1OctetString.getInstance(extensionValue).getOctets();
            if (authority) {
                return org.bouncycastle.asn1.x509.AuthorityKeyIdentifier.getInstance(inner).getKeyIdentifier();
            }
            return ASN1OctetString.getInstance(inner).getOctets();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static byte[] localKeyId(SafeBag bag) {
        ASN1Encodable value = attribute(bag, PKCSObjectIdentifiers.pkcs_9_at_localKeyId);
        return value == null ? null : ASN1OctetString.getInstance(value).getOctets();
    }

    private static String friendlyName(SafeBag bag) {
        ASN1Encodable value = attribute(bag, PKCSObjectIdentifiers.pkcs_9_at_friendlyName);
        return value == null ? null : org.bouncycastle.asn1.DERBMPString.getInstance(value).getString();
    }

    /** The first value of a bag attribute, or null. */
    private static ASN1Encodable attribute(SafeBag bag, ASN1ObjectIdentifier type) {
        ASN1Set attributes = bag.getBagAttributes();
        if (attributes == null) {
            return null;
        }
        for (ASN1Encodable element : attributes) {
            Attribute attribute = Attribute.getInstance(element);
            if (type.equals(attribute.getAttrType())) {
                ASN1Set values = attribute.getAttrValues();
                return values.size() == 0 ? null : values.getObjectAt(0);
            }
        }
        return null;
    }

    private static boolean absentOrNull(ASN1Encodable parameters) {
        return parameters == null || DERNull.INSTANCE.equals(parameters);
    }

    /** An iteration count from 1 to {@link #MAX_ITERATIONS}, or -1. */
    private static int iterations(BigInteger count) {
        if (count == null || count.signum() <= 0 || count.compareTo(BigInteger.valueOf(MAX_ITERATIONS)) > 0) {
            return -1;
        }
        return count.intValue();
    }
}
