package dev.certknock.server.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StartupWarmUpTest {

    @Test
    void opensAndVerifiesKnocksToEveryServerKeyWithBothClientKeyTypes() {
        MutableClock clock = MutableClock.at(Instant.parse("2026-12-04T10:00:00Z"));
        TestCa ca = TestCa.root("CN=warm-up test CA", clock);
        IssuedCertificate p256 = ca.leaf("CN=gw-p256").extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        IssuedCertificate x25519 = ca.leaf("CN=gw-x25519").keyType(KeyType.X25519)
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        List<ServerPrivateKey> keys = List.of(ServerPrivateKey.of(p256.privateKey(), p256.certificate()),
                ServerPrivateKey.of(x25519.privateKey(), x25519.certificate()));

        StartupWarmUp.Result r = StartupWarmUp.run(keys, 3, clock);

        // 2 client key types x 2 server keys x 3 rounds; a failure anywhere would give 0 (and a WARN).
        assertThat(r.knocks()).isEqualTo(12);
        assertThat(r.paths()).isEqualTo(6);
    }
}
