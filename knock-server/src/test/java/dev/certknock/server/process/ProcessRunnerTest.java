package dev.certknock.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessRunnerTest {

    private final ProcessRunner runner = new ProcessRunner(List.of(), Duration.ofSeconds(5));

    @Test
    void capturesExitCodeStdoutAndStderr() throws Exception {
        var r = runner.run(List.of("/bin/sh", "-c", "echo out; echo err >&2; exit 3"));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.succeeded()).isFalse();
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.describe()).contains("exited with 3: err");
    }

    @Test
    void feedsStandardInput() throws Exception {
        var r = runner.run(List.of("/bin/cat"), "line one\nline two\n");
        assertThat(r.succeeded()).isTrue();
        assertThat(r.stdout()).isEqualTo("line one\nline two\n");
    }

    @Test
    void largeInputAndOutputDoNotDeadlock() throws Exception {
        String big = "x".repeat(1 << 20) + "\n";
        var r = runner.run(List.of("/bin/sh", "-c", "cat; cat /dev/zero | head -c 300000 >&2"), big);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.stdout()).hasSize(ProcessRunner.CAPTURE_LIMIT);
        assertThat(r.stderr()).hasSize(ProcessRunner.CAPTURE_LIMIT);
        assertThat(r.stdoutTruncated()).isTrue();
    }

    @Test
    void anOutputLimitKeepsThatMuchAndSaysWhenItCut() throws Exception {
        ProcessRunner large = new ProcessRunner(List.of(), Duration.ofSeconds(5), 3_000_000);
        var whole = large.run(List.of("/bin/sh", "-c", "head -c 2000000 /dev/zero"));
        assertThat(whole.stdout()).hasSize(2_000_000);
        assertThat(whole.stdoutTruncated()).isFalse();
        var cut = new ProcessRunner(List.of(), Duration.ofSeconds(5), 10).run(List.of("/bin/sh", "-c", "echo 0123456789"));
        assertThat(cut.stdout()).isEqualTo("0123456789");
        assertThat(cut.stdoutTruncated()).as("the newline was cut").isTrue();
        assertThatThrownBy(() -> new ProcessRunner(List.of(), Duration.ofSeconds(5), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void prefixIsPrepended() throws Exception {
        var r = new ProcessRunner(List.of("/usr/bin/env", "CK=prefixed"), Duration.ofSeconds(5))
                .run(List.of("/bin/sh", "-c", "echo $CK"));
        assertThat(r.stdout()).isEqualTo("prefixed\n");
        assertThat(r.argv()).startsWith("/usr/bin/env", "CK=prefixed");
    }

    @Test
    void timeoutKillsTheProgramAndItsChildren(@TempDir Path dir) throws Exception {
        Path pidFile = dir.resolve("child.pid");
        var quick = new ProcessRunner(List.of(), Duration.ofMillis(300));
        long start = System.nanoTime();
        assertThatThrownBy(() -> quick.run(List.of("/bin/sh", "-c", "sleep 30 & echo $! > " + pidFile + "; wait")))
                .isInstanceOf(ProcessRunner.RunException.class).hasMessageContaining("did not finish within 300 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        long child = Long.parseLong(Files.readString(pidFile).strip());
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)) {
            assertThat(System.nanoTime()).as("child %d still alive", child).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /**
     * A timed-out open command must not get to run its next step. Killing the hung step before the
     * script let the script go on to the command after it: in CI an "open" ran after its own undo. The hung
     * step here is a shell with a hundred children, so that killing the children first (the old order)
     * takes long enough for the script to win that race every time.
     */
    @Test
    void aKilledScriptRunsNothingAfterItsHungStep(@TempDir Path dir) throws Exception {
        Path after = dir.resolve("after");
        var quick = new ProcessRunner(List.of(), Duration.ofMillis(1000));
        String hung = "i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done; sleep 30";
        assertThatThrownBy(() -> quick.run(List.of("/bin/sh", "-c", "/bin/sh -c '" + hung + "'; echo ran >> " + after)))
                .isInstanceOf(ProcessRunner.RunException.class);
        Thread.sleep(300);
        assertThat(after).as("the step after the hung one ran").doesNotExist();
    }

    @Test
    void missingProgramIsARunException() {
        assertThatThrownBy(() -> runner.run(List.of("/nonexistent/certknock-fw")))
                .isInstanceOf(ProcessRunner.RunException.class).hasMessageContaining("could not start");
    }
}
