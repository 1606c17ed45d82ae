package dev.certknock.server.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LowPriorityTest {

    @Test
    void lowersOnlyTheCallingThread() throws Exception {
        OptionalInt before = LowPriority.currentNice();
        assertThat(before).as("this test needs Linux /proc").isPresent();
        AtomicReference<Boolean> done = new AtomicReference<>();
        AtomicReference<OptionalInt> after = new AtomicReference<>();
        Thread t = new Thread(() -> {
            done.set(LowPriority.currentThread(LowPriority.LOWEST));
            after.set(LowPriority.currentNice());
        });
        t.start();
        t.join();
        assertThat(done.get()).isTrue();
        assertThat(after.get()).hasValue(LowPriority.LOWEST);
        // the caller's own thread (and so the rest of the process) keeps its priority
        assertThat(LowPriority.currentNice()).isEqualTo(before);
        assertThat(before.getAsInt()).isLessThan(LowPriority.LOWEST);
    }
}
