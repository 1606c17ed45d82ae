package dev.certknock.server.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.ratelimit.SourceRateLimiter.Standing;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SourceRateLimiterTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final SourceRateLimiter limiter = new SourceRateLimiter(5, 10, 100, now::get);

    private static InetAddress address(String a) throws Exception {
        return InetAddress.getByName(a);
    }

    private Standing standing(String a) throws Exception {
        return limiter.standing(SourceKey.of(address(a)));
    }

    private void advanceMillis(long ms) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    @Test
    void aSourceGoesFromCleanToFailingToBadAndBackWithTime() throws Exception {
        assertThat(standing("192.0.2.1")).as("never seen").isEqualTo(Standing.CLEAN);
        assertThat(limiter.tracked()).as("asking remembers nothing").isZero();
        limiter.charge(address("192.0.2.1"));
        assertThat(standing("192.0.2.1")).isEqualTo(Standing.FAILING);
        for (int i = 0; i < 9; i++) {
            limiter.charge(address("192.0.2.1"));
        }
        assertThat(standing("192.0.2.1")).isEqualTo(Standing.BAD);
        assertThat(limiter.inGoodStanding(address("192.0.2.1"))).isFalse();
        advanceMillis(200); // one failure back at 5 a second
        assertThat(standing("192.0.2.1")).isEqualTo(Standing.FAILING);
        assertThat(limiter.inGoodStanding(address("192.0.2.1"))).isTrue();
        advanceMillis(1_800); // the bucket is full again
        assertThat(standing("192.0.2.1")).isEqualTo(Standing.CLEAN);
        assertThat(standing("192.0.2.2")).as("another address").isEqualTo(Standing.CLEAN);
    }

    @Test
    void aVerifiedKnockPutsItsSourceFirstWhileItHasFailuresToSpareAndForTenMinutes() throws Exception {
        InetAddress alice = address("2001:db8:1:2::1");
        limiter.verified(alice);
        assertThat(standing("2001:db8:1:2::1")).isEqualTo(Standing.TRUSTED);
        assertThat(standing("2001:db8:1:2::99")).as("the same /64").isEqualTo(Standing.TRUSTED);
        assertThat(standing("2001:db8:1:3::1")).isEqualTo(Standing.CLEAN);
        limiter.charge(alice);
        assertThat(standing("2001:db8:1:2::1")).as("a failure or two do not undo it").isEqualTo(Standing.TRUSTED);
        for (int i = 0; i < 9; i++) {
            limiter.charge(alice);
        }
        assertThat(standing("2001:db8:1:2::1")).as("no allowance: out of failures is bad standing")
                .isEqualTo(Standing.BAD);
        assertThat(limiter.tryAcquire(alice)).as("and gives no tokens").isFalse();
        advanceMillis(2_000);
        assertThat(standing("2001:db8:1:2::1")).isEqualTo(Standing.TRUSTED);
        now.addAndGet(SourceRateLimiter.TRUSTED_FOR_NANOS);
        assertThat(standing("2001:db8:1:2::1")).isEqualTo(Standing.CLEAN);
        limiter.verified(alice);
        assertThat(standing("2001:db8:1:2::1")).isEqualTo(Standing.TRUSTED);
    }
}
