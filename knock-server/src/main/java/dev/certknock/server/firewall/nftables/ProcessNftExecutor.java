package dev.certknock.server.firewall.nftables;

import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.command.ChildEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code nft} program as a child process: an argv array (never a shell), the script on stdin,
 * bounded in time; a failure carries nft's exit status and error text. A command prefix such as
 * {@code ip netns exec NAME} runs nft elsewhere (tests use their own network namespace). nft gets
 * {@link ChildEnvironment}'s environment, never the server's.
 */
public final class ProcessNftExecutor implements NftExecutor {

    /** How much of nft's error output goes into an exception message. */
    private static final int MAX_ERROR_CHARS = 4000;

    private final List<String> prefix;
    private final String nft;
    private final Duration timeout;

    /**
     * @param commandPrefix words before the nft program, may be empty
     * @param nft the nft program, {@code nft} to find it on the PATH
     * @param timeout how long one nft run may take before it is killed and reported as failed
     */
    public ProcessNftExecutor(List<String> commandPrefix, String nft, Duration timeout) {
        this.prefix = List.copyOf(commandPrefix);
        this.nft = Objects.requireNonNull(nft, "nft");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** {@code nft} from the PATH, 10 s per run. */
    public ProcessNftExecutor(List<String> commandPrefix) {
        this(commandPrefix, "nft", Duration.ofSeconds(10));
    }

    @Override
    public void apply(String script) throws FirewallException {
        run(List.of("-f", "-"), script);
    }

    @Override
    public void check(String script) throws FirewallException {
        run(List.of("-c", "-f", "-"), script);
    }

    @Override
    public String query(List<String> arguments) throws FirewallException {
        return run(arguments, "");
    }

    /** The full command line for these nft arguments. */
    List<String> command(List<String> arguments) {
        List<String> command = new ArrayList<>(prefix);
        command.add(nft);
        command.addAll(arguments);
        return command;
    }

    private String run(List<String> arguments, String stdin) throws FirewallException {
        List<String> command = command(arguments);
        Process process;
        try {
            process = ChildEnvironment.applyTo(new ProcessBuilder(command)).start();
        } catch (IOException e) {
            throw new FirewallException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        try {
            CompletableFuture<byte[]> out = drain(process.getInputStream());
            CompletableFuture<byte[]> err = drain(process.getErrorStream());
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // nft exited before reading all of its input: its status and stderr say why.
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new FirewallException(String.join(" ", command) + " did not finish within "
                        + timeout.toMillis() + " ms and was killed", null);
            }
            String stdout = new String(out.get(), StandardCharsets.UTF_8);
            String stderr = new String(err.get(), StandardCharsets.UTF_8).strip();
            int status = process.exitValue();
            if (status != 0) {
                if (stderr.length() > MAX_ERROR_CHARS) {
                    stderr = stderr.substring(0, MAX_ERROR_CHARS) + " [...]";
                }
                throw new FirewallException(String.join(" ", command) + " failed (exit status " + status + "): "
                        + (stderr.isEmpty() ? "no error output" : stderr), null);
            }
            return stdout;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new FirewallException("interrupted while running " + String.join(" ", command), e);
        } catch (ExecutionException e) {
            process.destroyForcibly();
            throw new FirewallException("cannot read the output of " + String.join(" ", command), e.getCause());
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream stream) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (stream) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                stream.transferTo(buffer);
                result.complete(buffer.toByteArray());
            } catch (IOException e) {
                result.completeExceptionally(new UncheckedIOException(e));
            }
        }, "nft-output");
        t.setDaemon(true);
        t.start();
        return result;
    }
}
