package dev.certknock.server.process;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The server's one way to run an external program (nft without libnftables, ipset, iptables, conntrack, the
 * {@code command} backend's templates): an argv array (never through a shell), with an optional prefix (such as
 * {@code ip netns exec NAME}, for tests), optional bytes on standard input, and a timeout after which the
 * process and its descendants are killed. Standard output is captured up to the runner's output limit (by default
 * {@value #CAPTURE_LIMIT} bytes) and standard error up to {@value #CAPTURE_LIMIT} bytes; the rest is read and
 * discarded so the program never blocks, and {@link Result#stdoutTruncated()} says so. The program gets
 * {@link ChildEnvironment}'s environment, never the server's.
 */
public final class ProcessRunner implements ProgramRunner {

    /** Bytes of standard output and of standard error kept per run. */
    public static final int CAPTURE_LIMIT = 64 * 1024;

    /** What a finished program left: exit code and captured output. */
    public record Result(List<String> argv, int exitCode, String stdout, String stderr, boolean stdoutTruncated) {

        public boolean succeeded() {
            return exitCode == 0;
        }

        /** {@code 'argv' exited with N: stderr}, for exception messages. */
        public String describe() {
            String err = stderr.strip();
            return "'" + String.join(" ", argv) + "' exited with " + exitCode + (err.isEmpty() ? "" : ": " + err);
        }
    }

    /** The program could not be started, or did not finish within the timeout (it was killed). */
    public static final class RunException extends Exception {

        private static final long serialVersionUID = 1L;

        public RunException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final List<String> prefix;
    private final Duration timeout;
    private final int outputLimit;

    /**
     * @param prefix  prepended to every argv (empty for none), e.g. {@code [ip, netns, exec, ck-test]}
     * @param timeout how long one program may run before it is killed
     */
    public ProcessRunner(List<String> prefix, Duration timeout) {
        this(prefix, timeout, CAPTURE_LIMIT);
    }

    /**
     * @param outputLimit how many bytes of standard output to keep (a listing of 100,000 firewall elements is a
     *                    few megabytes)
     */
    public ProcessRunner(List<String> prefix, Duration timeout, int outputLimit) {
        this.prefix = List.copyOf(prefix);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the command timeout must be positive, not " + timeout);
        }
        if (outputLimit < 1) {
            throw new IllegalArgumentException("the output limit must be positive, not " + outputLimit);
        }
        this.outputLimit = outputLimit;
    }

    public Duration timeout() {
        return timeout;
    }

    public List<String> prefix() {
        return prefix;
    }


    /**
     * Runs {@code prefix + argv}, writes {@code stdin} (when not null) and waits for it to exit.
     *
     * @throws RunException when it cannot be started, or was killed after the timeout
     */
    @Override
    public Result run(List<String> argv, String stdin) throws RunException {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        List<String> full = new ArrayList<>(prefix.size() + argv.size());
        full.addAll(prefix);
        full.addAll(argv);
        ProcessBuilder pb = ChildEnvironment.applyTo(new ProcessBuilder(full));
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new RunException("could not start '" + String.join(" ", full) + "': " + e.getMessage(), e);
        }
        Capture out = new Capture(process.getInputStream(), "stdout", outputLimit);
        Capture err = new Capture(process.getErrorStream(), "stderr", CAPTURE_LIMIT);
        Thread writer = null;
        if (stdin != null) {
            byte[] bytes = stdin.getBytes(StandardCharsets.UTF_8);
            writer = new Thread(() -> {
                try (OutputStream os = process.getOutputStream()) {
                    os.write(bytes);
                } catch (IOException ignored) {
                    // the program exited without reading everything: its exit code tells what happened
                }
            }, "process-stdin");
            writer.setDaemon(true);
            writer.start();
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(process);
                throw new RunException("'" + String.join(" ", full) + "' did not finish within " + timeout.toMillis()
                        + " ms and was killed", null);
            }
            // a background child that inherited the pipes may keep them open: do not wait for it forever
            out.join(2000);
            err.join(2000);
            if (writer != null) {
                writer.join(1000);
            }
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new RunException("interrupted while running '" + String.join(" ", full) + "'", e);
        }
        return new Result(List.copyOf(full), process.exitValue(), out.text(), err.text(), out.overflowed);
    }

    /**
     * Kills the program first and its descendants after. The other order lets a shell script go on for a
     * moment once its {@code sleep} (or hung child) is killed, and run its next command (say, the real
     * firewall change) after we have given up on it and undone it. The descendants are listed before the
     * program dies, since they are re-parented (and no longer ours to find) once it has.
     */
    private static void kill(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads a stream to its end on its own thread, keeping the first {@code limit} bytes. */
    private static final class Capture extends Thread {
        private final InputStream in;
        private final int limit;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private volatile boolean overflowed;

        Capture(InputStream in, String name, int limit) {
            super("process-" + name);
            this.in = in;
            this.limit = limit;
            setDaemon(true);
            start();
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    int keep = Math.min(n, limit - kept.size());
                    if (keep > 0) {
                        kept.write(buf, 0, keep);
                    }
                    if (keep < n) {
                        overflowed = true;
                    }
                }
            } catch (IOException ignored) {
                // the process was killed: what was read so far is kept
            }
        }

        String text() {
            return kept.toString(StandardCharsets.UTF_8);
        }
    }
}
