package dev.certknock.client.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.certknock.client.ClientPki;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.spec.PBEParameterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast PKCS#12 reader against the JDK's key store, the reference: the same key and chain for the bundles it
 * reads; {@code NotHandled} (so the JDK's key store decides) for a wrong password, a changed byte anywhere, and
 * formats it does not read.
 */
class Pkcs12ReaderTest {

    private static final char[] PASSWORD = "correct horse".toCharArray();
    private final ClientPki pki = new ClientPki();

    @TempDir
    Path dir;

    @Test
    void aBundleAsTheJdkWritesItIsReadWithTheSameKeyAndChain() throws Exception {
        byte[] der = Files.readAllBytes(pki.writeBundle(dir.resolve("alice.p12"), PASSWORD));
        Pkcs12Reader.Opened opened = opened(Pkcs12Reader.open(der, PASSWORD.clone(), null));
        KeyStore jdk = jdkLoad(der);
        assertThat(opened.key().getEncoded()).isEqualTo(jdk.getKey("alice", PASSWORD).getEncoded());
        assertThat(opened.key().getAlgorithm()).isEqualTo("EC");
        assertThat(List.<Certificate>copyOf(opened.chain())).containsExactly(jdk.getCertificateChain("alice"));
        assertThat(opened.chain()).containsExactly(pki.client.certificate(), pki.ca.certificate());
        // The alias, when given, is the key's name exactly, as the JDK's key store lists it.
        assertThat(Pkcs12Reader.open(der, PASSWORD, "alice")).isInstanceOf(Pkcs12Reader.Opened.class);
        assertThat(Pkcs12Reader.open(der, PASSWORD, "bob")).isInstanceOf(Pkcs12Reader.NotHandled.class);
    }

    @Test
    void anEd25519KeyUnderAnIntermediateGivesTheJdksChain() throws Exception {
        TestCa users = pki.ca.intermediate("CN=users CA").build();
        IssuedCertificate bob = ClientPki.clientBuilder(users, ClientPki.DEFAULT_GRANTS).keyType(KeyType.ED25519).build();
        byte[] der = Files.readAllBytes(pki.writeBundle(dir.resolve("bob.p12"), PASSWORD, bob));
        Pkcs12Reader.Opened opened = opened(Pkcs12Reader.open(der, PASSWORD, null));
        KeyStore jdk = jdkLoad(der);
        assertThat(opened.key().getAlgorithm()).isEqualTo(jdk.getKey("alice", PASSWORD).getAlgorithm());
        assertThat(opened.key().getEncoded()).isEqualTo(jdk.getKey("alice", PASSWORD).getEncoded());
        assertThat(List.<Certificate>copyOf(opened.chain())).containsExactly(jdk.getCertificateChain("alice"));
        assertThat(opened.chain()).containsExactly(bob.certificate(), users.certificate(), pki.ca.certificate());
    }

    @Test
    void aWrongPasswordIsNotHandledAndTheJdkSaysSoWithoutThePassword() throws Exception {
        Path bundle = pki.writeBundle(dir.resolve("alice.p12"), PASSWORD);
        char[] wrong = "battery staple".toCharArray();
        Pkcs12Reader.Outcome outcome = Pkcs12Reader.open(Files.readAllBytes(bundle), wrong.clone(), null);
        assertThat(outcome).isInstanceOf(Pkcs12Reader.NotHandled.class);
        assertThat(((Pkcs12Reader.NotHandled) outcome).why()).startsWith("the MAC does not match").doesNotContain("battery");
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(bundle, wrong.clone()),
                IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.WRONG_PASSWORD);
        assertThat(e.getMessage()).isEqualTo("the password does not open bundle " + bundle).doesNotContain("battery");
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain("battery").doesNotContain("correct horse");
        }
        // An empty password is left to the JDK, which tries it in two encodings.
        assertThat(Pkcs12Reader.open(Files.readAllBytes(bundle), new char[0], null))
                .isInstanceOf(Pkcs12Reader.NotHandled.class);
    }

    @Test
    void aChangedByteAnywhereIsRefusedHereAndByTheJdk() throws Exception {
        Path bundle = pki.writeBundle(dir.resolve("alice.p12"), PASSWORD);
        byte[] der = Files.readAllBytes(bundle);
        // Every 7th byte flipped in turn, from the outer DER headers and the version through the contents to the
        // MAC's salt, iteration count and value: none loads here.
        for (int i = 0; i < der.length; i += 7) {
            byte[] changed = der.clone();
            changed[i] ^= 0x01;
            assertThat(Pkcs12Reader.open(changed, PASSWORD, null)).as("byte %d of %d changed", i, der.length)
                    .isInstanceOf(Pkcs12Reader.NotHandled.class);
        }
        // A changed certificate, encrypted: the MAC catches it before anything is decrypted, and the JDK refuses too.
        byte[] changed = der.clone();
        changed[der.length / 2] ^= 0x40;
        assertThat(Pkcs12Reader.open(changed, PASSWORD, null)).isInstanceOf(Pkcs12Reader.NotHandled.class);
        Path tampered = Files.write(dir.resolve("tampered.p12"), changed);
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(tampered, PASSWORD),
                IdentityException.class);
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains(tampered.toString()).doesNotContain("correct horse");
    }

    @Test
    void aChangedMacIsRefusedHereAndReportedByTheJdkAsBefore() throws Exception {
        Path bundle = pki.writeBundle(dir.resolve("alice.p12"), PASSWORD);
        byte[] der = Files.readAllBytes(bundle);
        byte[] mac = org.bouncycastle.asn1.pkcs.Pfx.getInstance(der).getMacData().getMac().getDigest();
        int at = indexOf(der, mac);
        assertThat(at).isPositive();
        byte[] changed = der.clone();
        changed[at + mac.length - 1] ^= 0x01;
        Pkcs12Reader.Outcome outcome = Pkcs12Reader.open(changed, PASSWORD, null);
        assertThat(outcome).isInstanceOf(Pkcs12Reader.NotHandled.class);
        assertThat(((Pkcs12Reader.NotHandled) outcome).why()).startsWith("the MAC does not match");
        Path tampered = Files.write(dir.resolve("mac.p12"), changed);
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(tampered, PASSWORD),
                IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.WRONG_PASSWORD);
        assertThat(e.getMessage()).isEqualTo("the password does not open bundle " + tampered);
    }

    @Test
    void theDerivationsOnTwoThreadsGiveWhatTheJdkGivesEveryTime() throws Exception {
        // The MAC's and the certificates' derivations run on a second thread: many opens in a row, from several
        // threads at once, all give the JDK's key, and the caller's interrupt status survives the join.
        byte[] der = Files.readAllBytes(pki.writeBundle(dir.resolve("alice.p12"), PASSWORD));
        byte[] expected = jdkLoad(der).getKey("alice", PASSWORD).getEncoded();
        Thread.currentThread().interrupt();
        try {
            assertThat(opened(Pkcs12Reader.open(der, PASSWORD, null)).key().getEncoded()).isEqualTo(expected);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 3; t++) {
            Thread thread = new Thread(() -> {
                try {
                    for (int i = 0; i < 3; i++) {
                        assertThat(opened(Pkcs12Reader.open(der, PASSWORD, null)).key().getEncoded()).isEqualTo(expected);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void aLegacyBundleIsLeftToTheJdkAndStillLoads() throws Exception {
        // Triple DES for the key and the PKCS#12 SHA-1 scheme: what old tools wrote; not read here.
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        List<Certificate> chain = new ArrayList<>(pki.client.chain());
        chain.add(pki.ca.certificate());
        store.setEntry("alice", new KeyStore.PrivateKeyEntry(pki.client.privateKey(), chain.toArray(new Certificate[0])),
                new KeyStore.PasswordProtection(PASSWORD, "PBEWithSHA1AndDESede",
                        new PBEParameterSpec(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 2048)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        store.store(out, PASSWORD);
        Path bundle = Files.write(dir.resolve("legacy.p12"), out.toByteArray());
        Pkcs12Reader.Outcome outcome = Pkcs12Reader.open(out.toByteArray(), PASSWORD, null);
        assertThat(outcome).isInstanceOf(Pkcs12Reader.NotHandled.class);
        assertThat(((Pkcs12Reader.NotHandled) outcome).why()).contains("key encrypted other than with PBES2");
        ClientIdentity id = ClientIdentity.fromPkcs12(bundle, PASSWORD);
        assertThat(id.certificate()).isEqualTo(pki.client.certificate());
        assertThat(id.trustAnchors()).containsExactly(pki.ca.certificate());
    }

    @Test
    void aBundleThatOpensslWritesIsReadLikeTheJdkReadsIt() throws Exception {
        Path key = Files.writeString(dir.resolve("alice.key"), pem("PRIVATE KEY", pki.client.privateKey().getEncoded()));
        Path cert = Files.writeString(dir.resolve("alice.pem"), ClientPki.pem(pki.client.certificate()));
        Path ca = Files.writeString(dir.resolve("ca.pem"), ClientPki.pem(pki.ca.certificate()));
        Path pass = Files.writeString(dir.resolve("pass"), new String(PASSWORD) + "\n");
        Path bundle = dir.resolve("openssl.p12");
        Process p = new ProcessBuilder("openssl", "pkcs12", "-export", "-inkey", key.toString(), "-in", cert.toString(),
                "-certfile", ca.toString(), "-name", "alice", "-passout", "file:" + pass, "-out", bundle.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("openssl pkcs12 -export: %s", output).isZero();
        byte[] der = Files.readAllBytes(bundle);
        Pkcs12Reader.Opened opened = opened(Pkcs12Reader.open(der, PASSWORD, null));
        KeyStore jdk = jdkLoad(der);
        assertThat(opened.key().getEncoded()).isEqualTo(jdk.getKey("alice", PASSWORD).getEncoded());
        assertThat(List.<Certificate>copyOf(opened.chain())).containsExactly(jdk.getCertificateChain("alice"));
    }

    private static Pkcs12Reader.Opened opened(Pkcs12Reader.Outcome outcome) {
        assertThat(outcome).isInstanceOf(Pkcs12Reader.Opened.class);
        return (Pkcs12Reader.Opened) outcome;
    }

    private static KeyStore jdkLoad(byte[] der) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(new ByteArrayInputStream(der), PASSWORD);
        return store;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
