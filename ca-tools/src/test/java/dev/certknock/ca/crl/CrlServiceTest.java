package dev.certknock.ca.crl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.ca.init.CaInitService;
import dev.certknock.ca.init.InitRequest;
import dev.certknock.ca.issue.ClientRequest;
import dev.certknock.ca.issue.GrantOptions;
import dev.certknock.ca.issue.IssueService;
import dev.certknock.ca.revoke.RevocationReason;
import dev.certknock.ca.revoke.RevokeService;
import dev.certknock.testing.time.MutableClock;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which revoked certificates `knock-ca crl` lists, as the clock passes their expiry. */
class CrlServiceTest {

    private static final char[] CA_PASSWORD = "ca password of some length".toCharArray();

    @TempDir
    Path tmp;

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-11-01T00:00:00Z"));
    private final SecureRandom random = new SecureRandom();

    private Path ca() {
        Path dir = tmp.resolve("ca");
        new CaInitService(clock, random).init(new InitRequest(dir, "CRL test CA", "p256", 3650,
                "http://ca.example.test/ca.crl", 7, null, CA_PASSWORD, null, null));
        return dir;
    }

    private String client(Path ca, String name, int days) {
        return new IssueService(clock, random).issueClient(new ClientRequest(ca, CA_PASSWORD, name,
                new GrantOptions(List.of("tcp/22"), null, null, null), false, java.time.Duration.ofDays(days), "p256", null,
                tmp.resolve(name + ".p12"), null, "bundle password of some length".toCharArray())).serial();
    }

    private void revoke(Path ca, String serial) {
        new RevokeService(clock).revokeSerial(ca, serial, RevocationReason.KEY_COMPROMISE);
    }

    private record Published(CrlResult result, Set<String> serials) {
    }

    private Published publish(Path ca) throws Exception {
        CrlResult r = new CrlService(clock).publish(ca, CA_PASSWORD, null);
        X509CRL crl;
        try (InputStream in = Files.newInputStream(r.der())) {
            crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(in);
        }
        Set<? extends X509CRLEntry> entries = crl.getRevokedCertificates();
        Set<String> serials = entries == null ? Set.of()
                : entries.stream().map(e -> e.getSerialNumber().toString(16)).collect(Collectors.toSet());
        assertThat(serials).hasSize(r.revokedCount());
        return new Published(r, serials);
    }

    private static String hex(String serial) {
        return new BigInteger(serial, 16).toString(16);
    }

    @Test
    void aRevokedCertificateLeavesTheCrlAfterOneCrlPastItsExpiryWhileAnUnexpiredOneStays() throws Exception {
        Path ca = ca();
        String shortLived = hex(client(ca, "short", 1));
        String longLived = hex(client(ca, "long", 30));
        String revokedLate = hex(client(ca, "late", 1));
        revoke(ca, shortLived);
        revoke(ca, longLived);

        clock.advance(Duration.ofHours(1));
        assertThat(publish(ca).serials()).containsExactlyInAnyOrder(shortLived, longLived);

        // Past the short-lived certificate's notAfter: the first CRL after expiry still lists it (RFC 5280 3.3).
        clock.advance(Duration.ofDays(2));
        revoke(ca, revokedLate); // revoked after its own expiry: never yet on a CRL
        Published second = publish(ca);
        assertThat(second.serials()).containsExactlyInAnyOrder(shortLived, longLived, revokedLate);
        assertThat(second.result().expiredDropped()).isZero();

        // The next one leaves the expired certificate out; the unexpired revoked one stays.
        clock.advance(Duration.ofDays(1));
        Published third = publish(ca);
        assertThat(third.serials()).containsExactly(longLived);
        assertThat(third.result().expiredDropped()).isEqualTo(2);
        assertThat(third.result().revokedCount()).isEqualTo(1);
    }

    @Test
    void aDatabaseFromBeforeLastCrlAtLeavesNothingOutOnItsFirstCrl() throws Exception {
        Path ca = ca();
        String expired = hex(client(ca, "short", 1));
        revoke(ca, expired);
        clock.advance(Duration.ofDays(3));
        publish(ca); // the first CRL past its expiry: with lastCrlAt, the next one would leave it out
        clock.advance(Duration.ofDays(1));
        Path db = ca.resolve("db.json");
        String json = Files.readString(db);
        assertThat(json).contains("\"lastCrlAt\"");
        Files.writeString(db, json.replaceAll("\"lastCrlAt\"\\s*:\\s*\"[^\"]*\"\\s*,", ""));
        assertThat(Files.readString(db)).doesNotContain("lastCrlAt");
        assertThat(publish(ca).serials()).containsExactly(expired);
        clock.advance(Duration.ofDays(1));
        assertThat(publish(ca).serials()).isEmpty();
    }
}
