package dev.certknock.client;

import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.client.knock.KnockClient;
import dev.certknock.client.knock.KnockOptions;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.knock.KnockTarget;
import dev.certknock.protocol.grant.PortGrant;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** A null argument to a public entry point fails at once, naming the parameter. */
class NullArgumentsTest {

    private final ClientPki pki = new ClientPki();

    @Test
    void identityAndTargetNameTheirNullArguments() {
        assertThatNullPointerException().isThrownBy(() -> ClientIdentity.fromPkcs12(null, new char[0]))
                .withMessage("bundle");
        assertThatNullPointerException().isThrownBy(() -> ClientIdentity.fromPkcs12(Path.of("a.p12"), null))
                .withMessage("password");
        assertThatNullPointerException().isThrownBy(() -> pki.identity().withTrustAnchors(null))
                .withMessage("anchors");
        assertThatNullPointerException().isThrownBy(() -> KnockTarget.of("gw1", (X509Certificate) null))
                .withMessage("serverCertificate");
        assertThatNullPointerException().isThrownBy(() -> KnockTarget.of("gw1", (List<X509Certificate>) null))
                .withMessage("serverCertificates");
        assertThatNullPointerException().isThrownBy(() -> CertificateFiles.read(null)).withMessage("file");
        assertThatNullPointerException().isThrownBy(() -> KnockOptions.defaults().withVersion(null))
                .withMessage("version");
    }

    @Test
    void theClientNamesItsNullArguments() throws Exception {
        KnockClient client = KnockClient.builder(pki.identity(), KnockTarget.of("127.0.0.1", pki.server.certificate()))
                .clock(pki.clock).build();
        assertThatNullPointerException().isThrownBy(() -> KnockClient.builder(null, client.target()))
                .withMessage("identity");
        assertThatNullPointerException().isThrownBy(() -> client.knock(List.of(PortGrant.parse("tcp/22")), null))
                .withMessage("options");
        assertThatNullPointerException().isThrownBy(() -> client.knock(Arrays.asList(PortGrant.parse("tcp/22"), null),
                KnockOptions.defaults())).withMessage("requested grant");
        assertThatNullPointerException().isThrownBy(() -> client.send(null)).withMessage("prepared");
        assertThatNullPointerException().isThrownBy(() -> client.awaitOpen(null, 22, Duration.ofSeconds(1)))
                .withMessage("sent");
        KnockReceipt receipt = client.knock(List.of(PortGrant.parse("tcp/22")), KnockOptions.defaults().withoutReply()
                .withDeclaredAddress(java.net.InetAddress.getLoopbackAddress()));
        assertThatNullPointerException().isThrownBy(() -> client.awaitOpen(receipt, 22, null)).withMessage("timeout");
        assertThatNullPointerException().isThrownBy(() -> client.awaitOpenAsync(receipt, 22, Duration.ofSeconds(1),
                (Executor) null)).withMessage("executor");
    }
}
