package dev.certknock.client.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.client.ClientPki;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.Test;

/** The key check by derivation: a key's own certificate matches; another key, of any kind, does not. */
class KeyPairCheckTest {

    private final ClientPki pki = new ClientPki();

    @Test
    void aP256KeyMatchesItsOwnPublicKeyOnly() throws Exception {
        IssuedCertificate other = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).build();
        assertThat(KeyPairCheck.check(pki.client.privateKey(), pki.client.certificate().getPublicKey()))
                .isEqualTo(KeyPairCheck.Result.MATCHES);
        assertThat(KeyPairCheck.check(other.privateKey(), pki.client.certificate().getPublicKey()))
                .isEqualTo(KeyPairCheck.Result.DIFFERS);
    }

    @Test
    void anEd25519KeyMatchesItsOwnPublicKeyOnly() {
        IssuedCertificate bob = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).keyType(KeyType.ED25519).build();
        IssuedCertificate carol = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).keyType(KeyType.ED25519).build();
        assertThat(KeyPairCheck.check(bob.privateKey(), bob.certificate().getPublicKey())).isEqualTo(KeyPairCheck.Result.MATCHES);
        assertThat(KeyPairCheck.check(carol.privateKey(), bob.certificate().getPublicKey()))
                .isEqualTo(KeyPairCheck.Result.DIFFERS);
    }

    @Test
    void aKeyOnAnotherCurveDiffersAndOtherKindsAreLeftToTheTestSignature() throws Exception {
        KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
        p384.initialize(new ECGenParameterSpec("secp384r1"));
        assertThat(KeyPairCheck.check(p384.generateKeyPair().getPrivate(), pki.client.certificate().getPublicKey()))
                .isEqualTo(KeyPairCheck.Result.DIFFERS);
        IssuedCertificate bob = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).keyType(KeyType.ED25519).build();
        assertThat(KeyPairCheck.check(bob.privateKey(), pki.client.certificate().getPublicKey()))
                .isEqualTo(KeyPairCheck.Result.UNKNOWN);
        IssuedCertificate rsa = ClientPki.clientBuilder(pki.ca, ClientPki.DEFAULT_GRANTS).keyType(KeyType.RSA2048).build();
        assertThat(KeyPairCheck.check(rsa.privateKey(), rsa.certificate().getPublicKey()))
                .isEqualTo(KeyPairCheck.Result.UNKNOWN);
    }
}
