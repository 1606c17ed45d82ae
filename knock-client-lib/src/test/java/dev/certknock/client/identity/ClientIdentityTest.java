package dev.certknock.client.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.certknock.client.ClientPki;
import dev.certknock.protocol.knock.SignatureScheme;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientIdentityTest {

    private final ClientPki pki = new ClientPki();
    private static final char[] PASSWORD = "correct horse".toCharArray();

    @TempDir
    Path dir;

    @Test
    void aPkcs12BundleGivesTheKeyTheChainWithoutTheRootAndTheRootAsAnchor() throws Exception {
        Path bundle = pki.writeBundle(dir.resolve("alice.p12"), PASSWORD);
        ClientIdentity id = ClientIdentity.fromPkcs12(bundle, PASSWORD.clone());
        assertThat(id.certificate()).isEqualTo(pki.client.certificate());
        assertThat(id.credential().chain()).containsExactly(pki.client.certificate());
        assertThat(id.trustAnchors()).containsExactly(pki.ca.certificate());
        assertThat(id.intermediates()).isEmpty();
        assertThat(id.credential().signer().scheme()).isEqualTo(SignatureScheme.ECDSA_P256_SHA256);
        assertThat(id.toString()).contains("CN=alice").contains("redacted").doesNotContain("correct horse");
    }

    @Test
    void intermediatesTravelAndEd25519KeysLoad() throws Exception {
        TestCa users = pki.ca.intermediate("CN=users CA").build();
        IssuedCertificate bob = ClientPki.clientBuilder(users, ClientPki.DEFAULT_GRANTS).keyType(KeyType.ED25519).build();
        Path bundle = pki.writeBundle(dir.resolve("bob.p12"), PASSWORD, bob);
        ClientIdentity id = ClientIdentity.fromPkcs12(bundle, PASSWORD);
        assertThat(id.credential().chain()).containsExactly(bob.certificate(), users.certificate());
        assertThat(id.trustAnchors()).containsExactly(pki.ca.certificate());
        assertThat(id.intermediates()).containsExactly(users.certificate());
        assertThat(id.credential().signer().scheme()).isEqualTo(SignatureScheme.ED25519);
    }

    @Test
    void aWrongPasswordIsReportedAsSuch() throws Exception {
        Path bundle = pki.writeBundle(dir.resolve("alice.p12"), PASSWORD);
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(bundle, "wrong".toCharArray()),
                IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.WRONG_PASSWORD);
        assertThat(e.getMessage()).isEqualTo("the password does not open bundle " + bundle);
    }

    @Test
    void aMissingOrMalformedBundleIsReported() throws Exception {
        Path missing = dir.resolve("nope.p12");
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(missing, PASSWORD),
                IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.UNREADABLE);
        assertThat(e.getMessage()).isEqualTo("bundle " + missing + " does not exist");

        Path junk = Files.writeString(dir.resolve("junk.p12"), "this is not PKCS#12");
        e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(junk, PASSWORD), IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.MALFORMED);
        assertThat(e.getMessage()).startsWith("bundle " + junk + " is not a readable PKCS#12 file");
    }

    @Test
    void aKeyStoreWithSeveralKeysNeedsAnAlias() throws Exception {
        IssuedCertificate carol = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).build();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("alice", pki.client.privateKey(), PASSWORD,
                new Certificate[] {pki.client.certificate(), pki.ca.certificate()});
        store.setKeyEntry("carol", carol.privateKey(), PASSWORD, new Certificate[] {carol.certificate()});
        store.setCertificateEntry("root", pki.ca.certificate());
        Path file = dir.resolve("two.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, PASSWORD);
        }
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(file, PASSWORD),
                IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.AMBIGUOUS_KEY);
        assertThat(e.getMessage()).isEqualTo("bundle " + file + " holds 2 private keys [alice, carol]: name the one to use");

        ClientIdentity id = ClientIdentity.fromPkcs12(file, PASSWORD, "carol");
        assertThat(id.certificate()).isEqualTo(carol.certificate());
        // The root arrives as a trusted-certificate entry, not in carol's chain: still an anchor.
        assertThat(id.trustAnchors()).containsExactly(pki.ca.certificate());

        e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(file, PASSWORD, "dave"), IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.NO_KEY);
        assertThat(e.getMessage()).isEqualTo("bundle " + file + " has no private key named 'dave'; it has [alice, carol]");

        KeyStore loaded = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            loaded.load(in, PASSWORD);
        }
        assertThat(ClientIdentity.fromKeyStore(loaded, "alice", PASSWORD).certificate())
                .isEqualTo(pki.client.certificate());
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() {
        IssuedCertificate other = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).build();
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.of(other.privateKey(),
                List.of(pki.client.certificate())), IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.UNSUPPORTED_KEY);
        assertThat(e.getMessage()).isEqualTo("the private key does not belong to the client certificate CN=alice");
    }

    @Test
    void aBundleWhoseKeyIsAnotherCertificatesIsRefusedWithTheSameMessage() throws Exception {
        // The JDK's key store does not check that an entry's key and certificate belong together: the bundle is
        // well-formed, its MAC right, and the fast reader opens it; the key check refuses it.
        IssuedCertificate other = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).build();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("alice", other.privateKey(), PASSWORD,
                new Certificate[] {pki.client.certificate(), pki.ca.certificate()});
        Path file = dir.resolve("mismatched.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, PASSWORD);
        }
        assertThat(Pkcs12Reader.open(Files.readAllBytes(file), PASSWORD, null)).isInstanceOf(Pkcs12Reader.Opened.class);
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.fromPkcs12(file, PASSWORD), IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.UNSUPPORTED_KEY);
        assertThat(e.getMessage()).isEqualTo("the private key does not belong to the client certificate CN=alice");
    }

    @Test
    void anEd25519KeyOfAnotherCertificateIsRefused() {
        IssuedCertificate bob = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).keyType(KeyType.ED25519).build();
        IssuedCertificate carol = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).keyType(KeyType.ED25519).build();
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.of(carol.privateKey(), List.of(bob.certificate())),
                IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.UNSUPPORTED_KEY);
        assertThat(e.getMessage()).startsWith("the private key does not belong to the client certificate ");
    }

    @Test
    void aKeyThatCannotBeExportedIsStillCheckedWithATestSignature() throws Exception {
        // A token's key (getEncoded() null) signs a test message, verified with the certificate's key.
        java.security.PrivateKey opaqueOther = opaque(ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).build()
                .privateKey());
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.of(opaqueOther, List.of(pki.client.certificate())),
                IdentityException.class);
        assertThat(e.getMessage()).isEqualTo("the private key does not belong to the client certificate CN=alice");
        ClientIdentity id = ClientIdentity.of(opaque(pki.client.privateKey()), List.of(pki.client.certificate()));
        assertThat(id.credential().signer().toString()).contains("via JCA");
    }

    /** A P-256 key that, like a token's, will not give out its encoding; SunEC signs with the real key. */
    private static java.security.PrivateKey opaque(java.security.PrivateKey real) {
        java.security.interfaces.ECPrivateKey ec = (java.security.interfaces.ECPrivateKey) real;
        return new java.security.interfaces.ECPrivateKey() {
            @Override
            public java.math.BigInteger getS() {
                return ec.getS();
            }

            @Override
            public java.security.spec.ECParameterSpec getParams() {
                return ec.getParams();
            }

            @Override
            public String getAlgorithm() {
                return "EC";
            }

            @Override
            public String getFormat() {
                return null;
            }

            @Override
            public byte[] getEncoded() {
                return null;
            }
        };
    }

    @Test
    void anRsaClientCertificateCannotSignKnocks() {
        IssuedCertificate rsa = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).keyType(KeyType.RSA2048).build();
        IdentityException e = catchThrowableOfType(() -> ClientIdentity.of(rsa.privateKey(), rsa.chain()),
                IdentityException.class);
        assertThat(e.reason()).isEqualTo(IdentityException.Reason.UNSUPPORTED_KEY);
        assertThat(e.getMessage()).isEqualTo("the client certificate's key is RSA; knocks are signed with EC P-256 or "
                + "Ed25519 keys only");
    }
}
