package dev.certknock.server.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogThrottleTest {

    private final AtomicLong nanos = new AtomicLong(-5_000_000_000L); // nanoTime may be negative
    private final LogThrottle everyTenSeconds = new LogThrottle(1, Duration.ofSeconds(10), nanos::get);

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void theFirstLineIsLoggedTheRestOfTheIntervalCountedInTheNextLoggedLine() {
        assertThat(everyTenSeconds.acquire()).hasValue(0);
        for (int i = 0; i < 7; i++) {
            advance(Duration.ofSeconds(1));
            assertThat(everyTenSeconds.acquire()).isEmpty();
        }
        advance(Duration.ofMillis(2_999));
        assertThat(everyTenSeconds.acquire()).as("9.999 s after the last line").isEmpty();
        advance(Duration.ofMillis(1));
        assertThat(everyTenSeconds.acquire()).as("the 8 left out are counted here").hasValue(8);
        advance(Duration.ofSeconds(60));
        assertThat(everyTenSeconds.acquire()).as("the count starts again").hasValue(0);
    }

    @Test
    void severalPermitsPerInterval() {
        LogThrottle threePerSecond = new LogThrottle(3, Duration.ofSeconds(1), nanos::get);
        for (int i = 0; i < 3; i++) {
            assertThat(threePerSecond.acquire()).hasValue(0);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(threePerSecond.acquire()).isEmpty();
        }
        advance(Duration.ofSeconds(1));
        assertThat(threePerSecond.acquire()).hasValue(5);
        assertThat(threePerSecond.acquire()).hasValue(0);
    }

    @Test
    void runsOnTheMonotonicClockAcrossItsWrapAround() {
        nanos.set(Long.MAX_VALUE - 1_000_000_000L);
        assertThat(everyTenSeconds.acquire()).hasValue(0);
        advance(Duration.ofSeconds(5));
        assertThat(everyTenSeconds.acquire()).isEmpty();
        advance(Duration.ofSeconds(5));
        assertThat(everyTenSeconds.acquire()).hasValue(1);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new LogThrottle(0, Duration.ofSeconds(1), nanos::get))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LogThrottle(1, Duration.ZERO, nanos::get))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEmptyResultIsTheSharedEmpty() {
        everyTenSeconds.acquire();
        assertThat(everyTenSeconds.acquire()).isSameAs(OptionalLong.empty());
    }
}
