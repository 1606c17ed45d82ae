package dev.certknock.server.pipeline;

import dev.certknock.server.grant.GrantDecision;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.ReceivedDatagram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockFrame;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.config.ServerConfig.DeclaredAddressPolicy;
import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantOutcome;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.ratelimit.SourceRateLimiter;
import dev.certknock.server.ratelimit.TokenBucket;
import dev.certknock.testing.pki.IssuedCertificate;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Each stage on its own, with a context prepared the way the stages before it would leave it. */
class StagesTest {

    private final ServerFixture f = new ServerFixture();
    private final KnockOpener opener = KnockOpener.of(f.serverKey);
    private final IssuedCertificate alice = f.client("alice").build();

    private KnockContext context(byte[] datagram) {
        return new KnockContext(ReceivedDatagram.of(datagram, new InetSocketAddress("198.51.100.7", 4000),
                f.clock.instant()), f.clock.instant());
    }

    /** A context that has passed the frame check and HPKE open. */
    private KnockContext opened(byte[] datagram) {
        KnockContext ctx = context(datagram);
        assertThat(new FrameCheck(opener).apply(ctx)).isEqualTo(Outcome.CONTINUE);
        assertThat(new HpkeOpen(opener).apply(ctx)).isEqualTo(Outcome.CONTINUE);
        return ctx;
    }

    private static DropReason reason(Outcome o) {
        assertThat(o).isInstanceOf(Outcome.Drop.class);
        return ((Outcome.Drop) o).reason();
    }

    @Nested
    class FrameCheckStage {
        @Test
        void passesAKnockForItsKeyAndDropsOthersWithoutCryptography() {
            KnockContext ok = context(f.knock(alice, ServerFixture.ssh(60)));
            assertThat(new FrameCheck(opener).apply(ok)).isEqualTo(Outcome.CONTINUE);
            assertThat(ok.frame()).isNotNull();
            assertThat(reason(new FrameCheck(opener).apply(context(new byte[] {7, 1})))).isEqualTo(DropReason.UNSUPPORTED_VERSION);
            var other = f.ca.leaf("CN=gw2").build();
            byte[] toOther = f.knock(alice, ServerFixture.ssh(60),
                    dev.certknock.protocol.knock.ServerPublicKey.fromCertificate(other.certificate()));
            assertThat(reason(new FrameCheck(opener).apply(context(toOther)))).isEqualTo(DropReason.UNKNOWN_SERVER_KEY);
        }
    }

    @Nested
    class HpkeOpenStage {
        @Test
        void opensAndFingerprintsOrDropsUndecryptable() throws Exception {
            KnockContext ctx = opened(f.knock(alice, ServerFixture.ssh(60)));
            assertThat(ctx.unverified().claimedContent().grants()).containsExactly(PortGrant.parse("tcp/22"));
            assertThat(ctx.leafFingerprint()).hasSize(32);
            byte[] d = f.knock(alice, ServerFixture.ssh(60));
            d[d.length - 1] ^= 1;
            KnockContext bad = context(d);
            bad.frame = KnockFrame.parse(d);
            assertThat(reason(new HpkeOpen(opener).apply(bad))).isEqualTo(DropReason.DECRYPTION_FAILED);
        }
    }

    @Nested
    class TimestampWindowStage {
        @Test
        void acceptsTheWindowInclusiveAndDropsBeyondEachSide() {
            TimestampWindow stage = new TimestampWindow(Duration.ofSeconds(30));
            byte[] d = f.knock(alice, ServerFixture.ssh(60));
            Instant sealedAt = f.clock.instant();
            for (long offset : new long[] {-30_000, 0, 30_000}) {
                KnockContext ctx = opened(d);
                KnockContext shifted = new KnockContext(ctx.datagram(), sealedAt.plusMillis(-offset));
                shifted.unverified = ctx.unverified;
                assertThat(stage.apply(shifted)).as("offset %d", offset).isEqualTo(Outcome.CONTINUE);
            }
            KnockContext ctx = opened(d);
            KnockContext late = new KnockContext(ctx.datagram(), sealedAt.plusMillis(30_001));
            late.unverified = ctx.unverified;
            assertThat(reason(stage.apply(late))).isEqualTo(DropReason.TIMESTAMP_TOO_OLD);
            KnockContext early = new KnockContext(ctx.datagram(), sealedAt.minusMillis(30_001));
            early.unverified = ctx.unverified;
            assertThat(reason(stage.apply(early))).isEqualTo(DropReason.TIMESTAMP_IN_FUTURE);
        }
    }

    @Nested
    class RateStages {
        @Test
        void sourceLimitIsPerIpv4AddressAndPerIpv6Slash64() throws Exception {
            SourceRateLimiter limiter = new SourceRateLimiter(1, 1, 100, f.clock.monotonic());
            assertThat(limiter.tryAcquire(java.net.InetAddress.getByName("2001:db8:1:2::1"))).isTrue();
            assertThat(limiter.tryAcquire(java.net.InetAddress.getByName("2001:db8:1:2::99"))).as("same /64").isFalse();
            assertThat(limiter.tryAcquire(java.net.InetAddress.getByName("2001:db8:1:3::1"))).as("other /64").isTrue();
            assertThat(limiter.tryAcquire(java.net.InetAddress.getByName("192.0.2.1"))).isTrue();
            assertThat(limiter.tryAcquire(java.net.InetAddress.getByName("192.0.2.2"))).as("other /32").isTrue();
        }

        @Test
        void aSourceIsChargedOnlyForDropsThatAreItsOwnDoing() throws Exception {
            SourceRateLimiter limiter = new SourceRateLimiter(1, 1, 100, f.clock.monotonic());
            SourceRateLimit stage = new SourceRateLimit(limiter);
            for (DropReason notItsDoing : List.of(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED, DropReason.SOURCE_RATE_LIMITED,
                    DropReason.REVOCATION_UNAVAILABLE, DropReason.FIREWALL_FAILED, DropReason.INTERNAL_ERROR)) {
                KnockContext ctx = context(new byte[1]);
                assertThat(stage.apply(ctx)).as("the stage never drops").isEqualTo(Outcome.CONTINUE);
                assertThat(ctx.sourceInGoodStanding).isTrue();
                ctx.dropped(notItsDoing);
            }
            KnockContext failed = context(new byte[1]);
            stage.apply(failed);
            failed.dropped(DropReason.DECRYPTION_FAILED);
            KnockContext next = context(new byte[1]);
            assertThat(stage.apply(next)).isEqualTo(Outcome.CONTINUE);
            assertThat(next.sourceInGoodStanding).as("one failure spent the burst of 1").isFalse();
            f.clock.advance(Duration.ofSeconds(1));
            KnockContext later = context(new byte[1]);
            stage.apply(later);
            assertThat(later.sourceInGoodStanding).isTrue();
        }

        @Test
        void aSourceInBadStandingGetsOnlyWhatTheBudgetHasToSpare() {
            PublicKeyBudget budget = new PublicKeyBudget(new TokenBucket(4, 4, f.clock.monotonic())); // reserve 2
            KnockContext bad = context(new byte[1]);
            bad.sourceInGoodStanding = false;
            KnockContext good = context(new byte[1]);
            assertThat(budget.apply(bad)).isEqualTo(Outcome.CONTINUE); // 4 -> 3
            assertThat(budget.apply(bad)).isEqualTo(Outcome.CONTINUE); // 3 -> 2
            assertThat(reason(budget.apply(bad))).isEqualTo(DropReason.SOURCE_RATE_LIMITED);
            assertThat(budget.apply(good)).isEqualTo(Outcome.CONTINUE); // the reserve: 2 -> 1
            assertThat(budget.apply(good)).isEqualTo(Outcome.CONTINUE); // 1 -> 0
            assertThat(reason(budget.apply(good))).isEqualTo(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED);
        }

        @Test
        void trackedSourcesAreBounded() throws Exception {
            SourceRateLimiter limiter = new SourceRateLimiter(1, 1, 16, f.clock.monotonic());
            for (int i = 0; i < 1000; i++) {
                limiter.tryAcquire(java.net.InetAddress.getByAddress(new byte[] {10, 0, (byte) (i >> 8), (byte) i}));
            }
            assertThat(limiter.tracked()).isEqualTo(16);
        }

        @Test
        void theGlobalBudgetRefillsWithTime() {
            PublicKeyBudget stage = new PublicKeyBudget(new TokenBucket(2, 2, f.clock.monotonic()));
            KnockContext ctx = context(new byte[1]);
            assertThat(stage.apply(ctx)).isEqualTo(Outcome.CONTINUE);
            assertThat(stage.apply(ctx)).isEqualTo(Outcome.CONTINUE);
            assertThat(reason(stage.apply(ctx))).isEqualTo(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED);
            f.clock.advance(Duration.ofMillis(500));
            assertThat(stage.apply(ctx)).isEqualTo(Outcome.CONTINUE);
            assertThat(reason(stage.apply(ctx))).isEqualTo(DropReason.PUBLIC_KEY_BUDGET_EXHAUSTED);
        }

        @Test
        void bucketsRefillWithRealTimeWhateverTheWallClockDoes() throws Exception {
            java.net.InetAddress source = java.net.InetAddress.getByName("192.0.2.1");
            SourceRateLimiter limiter = new SourceRateLimiter(1, 1, 100, f.clock.monotonic());
            TokenBucket budget = new TokenBucket(1, 1, f.clock.monotonic());
            assertThat(limiter.tryAcquire(source)).isTrue();
            assertThat(budget.tryAcquire()).isTrue();
            // NTP steps the wall clock back an hour while a second passes: the buckets still refill.
            f.clock.stepWall(Duration.ofHours(-1));
            f.clock.advance(Duration.ofSeconds(1));
            assertThat(limiter.tryAcquire(source)).isTrue();
            assertThat(budget.tryAcquire()).isTrue();
            // Stepped a day ahead with no time passing: nothing is refilled.
            f.clock.stepWall(Duration.ofDays(1));
            assertThat(limiter.tryAcquire(source)).isFalse();
            assertThat(budget.tryAcquire()).isFalse();
        }
    }

    @Nested
    class SignatureAndAuthorizationStages {
        private KnockContext verified(IssuedCertificate client, dev.certknock.protocol.knock.KnockRequest request)
                throws Exception {
            KnockContext ctx = opened(f.knock(client, request));
            assertThat(new SignatureCheck().apply(ctx)).isEqualTo(Outcome.CONTINUE);
            ctx.certificateGrants = dev.certknock.protocol.grant.GrantsExtension.fromCertificate(client.certificate()).orElseThrow();
            ctx.holderPath = List.of(new CertRef(CertRef.keyIdOf(f.caCertificate().getPublicKey()),
                    client.certificate().getSerialNumber()));
            return ctx;
        }

        @Test
        void authorizationDecidesAddressGrantsAndDuration() throws Exception {
            Authorization stage = new Authorization(ServerFixture.SERVER_NAME, List.of(PortGrant.parse("tcp/22")), 60, 3600,
                    DeclaredAddressPolicy.USE_SOURCE);
            KnockContext ctx = verified(alice, ServerFixture.ssh(200));
            assertThat(stage.apply(ctx)).isEqualTo(Outcome.CONTINUE);
            assertThat(ctx.decision().grants()).containsExactly(PortGrant.parse("tcp/22"));
            assertThat(ctx.decision().duration()).isEqualTo(Duration.ofSeconds(200)); // certificate allows 300
            assertThat(ctx.decision().address().getHostAddress()).isEqualTo("198.51.100.7");
            IssuedCertificate wide = ServerFixture.client(f.ca, "wide", CertknockGrants.of(PortGrant.parse("udp/1-65535"))).build();
            assertThat(reason(stage.apply(verified(wide, dev.certknock.protocol.knock.KnockRequest.of(10,
                    List.of(PortGrant.parse("udp/53"))))))).isEqualTo(DropReason.GRANT_NOT_PROTECTED);
        }

        @Test
        void theFirewallStageTurnsARefusalIntoADrop() throws Exception {
            Authorization auth = new Authorization(ServerFixture.SERVER_NAME, List.of(PortGrant.parse("tcp/22")), 60, 3600,
                    DeclaredAddressPolicy.USE_SOURCE);
            KnockContext ctx = verified(alice, ServerFixture.ssh(30));
            auth.apply(ctx);
            Firewall refusing = refusing(new FirewallException("nft: table is busy", null));
            GrantIssue stage = new GrantIssue(refusing);
            try (LogCapture log = LogCapture.ofThisThread()) {
                for (int i = 0; i < 50; i++) {
                    assertThat(reason(stage.apply(ctx))).isEqualTo(DropReason.FIREWALL_FAILED);
                }
                assertThat(log.events()).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                        .as("one WARN for a burst of refusals, not one per knock").hasSize(1)
                        .allSatisfy(e -> assertThat(e.getFormattedMessage()).contains("nft: table is busy"));
                assertThat(log.events()).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.DEBUG).hasSize(49);
            }
        }

        @Test
        void aCertificateRevokedWhileItsKnockWasInThePipelineIsDroppedAsRevokedWithoutAWarning() throws Exception {
            Authorization auth = new Authorization(ServerFixture.SERVER_NAME, List.of(PortGrant.parse("tcp/22")), 60, 3600,
                    DeclaredAddressPolicy.USE_SOURCE);
            KnockContext ctx = verified(alice, ServerFixture.ssh(30));
            auth.apply(ctx);
            GrantIssue stage = new GrantIssue(refusing(new GrantOutcome.Refused(GrantOutcome.Refusal.REVOKED, "serial a was revoked")));
            try (LogCapture log = LogCapture.ofThisThread()) {
                assertThat(reason(stage.apply(ctx))).isEqualTo(DropReason.REVOKED);
                assertThat(log.events()).noneMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN);
            }
        }

        @Test
        void aGrantPastTheElementLimitsIsDroppedWithItsOwnReasonWithoutAWarning() throws Exception {
            Authorization auth = new Authorization(ServerFixture.SERVER_NAME, List.of(PortGrant.parse("tcp/22")), 60, 3600,
                    DeclaredAddressPolicy.USE_SOURCE);
            KnockContext ctx = verified(alice, ServerFixture.ssh(30));
            auth.apply(ctx);
            try (LogCapture log = LogCapture.ofThisThread()) {
                assertThat(reason(new GrantIssue(refusing(new GrantOutcome.Refused(
                        GrantOutcome.Refusal.CERTIFICATE_LIMIT, "full"))).apply(ctx)))
                        .isEqualTo(DropReason.CERTIFICATE_ELEMENT_LIMIT);
                assertThat(reason(new GrantIssue(refusing(new GrantOutcome.Refused(
                        GrantOutcome.Refusal.TOTAL_LIMIT, "full"))).apply(ctx)))
                        .isEqualTo(DropReason.FIREWALL_ELEMENT_LIMIT);
                assertThat(ctx.reply()).as("no reply says it opened").isNull();
                assertThat(log.events()).noneMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN);
            }
            assertThat(DropReason.CERTIFICATE_ELEMENT_LIMIT.chargedToSender()).isTrue();
            assertThat(DropReason.FIREWALL_ELEMENT_LIMIT.chargedToSender()).as("the server's limit, not the sender's")
                    .isFalse();
        }

        /** A firewall that fails every grant with this exception. */
        private Firewall refusing(FirewallException failure) {
            return refusing(() -> {
                throw failure;
            });
        }

        /** A firewall that refuses every grant with this outcome. */
        private Firewall refusing(GrantOutcome.Refused refusal) {
            return refusing(() -> refusal);
        }

        private interface Opener {
            GrantOutcome open() throws FirewallException;
        }

        private Firewall refusing(Opener opener) {
            return new Firewall() {
                @Override
                public GrantOutcome open(GrantDecision decision) throws FirewallException {
                    return opener.open();
                }

                @Override
                public int revoke(java.util.Set<CertRef> revoked) {
                    return 0;
                }

                @Override
                public List<GrantDecision> active(Instant now) {
                    return List.of();
                }

                @Override
                public void close() {
                }
            };
        }
    }
}
