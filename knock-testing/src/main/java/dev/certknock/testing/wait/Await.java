package dev.certknock.testing.wait;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition until it holds, or fails the test with what it waited for once the time is up. */
public final class Await {

    private Await() {
    }

    /** Polls {@code condition} every {@code poll} until it holds; an AssertionError naming {@code what} after {@code timeout}. */
    public static void until(String what, Duration timeout, Duration poll, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("waited " + timeout + " for: " + what);
            }
            Thread.sleep(poll.toMillis());
        }
    }

    /** {@link #until(String, Duration, Duration, BooleanSupplier)}, polling every 20 ms. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        until(what, timeout, Duration.ofMillis(20), condition);
    }
}
