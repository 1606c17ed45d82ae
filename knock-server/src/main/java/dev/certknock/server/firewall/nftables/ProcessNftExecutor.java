package dev.certknock.server.firewall.nftables;

import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.process.ProcessRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Runs the {@code nft} program as a child process through the server's {@link ProcessRunner}: an argv array
 * (never a shell), the script on stdin, bounded in time; a failure carries nft's exit status and error text. A
 * command prefix such as {@code ip netns exec NAME} runs nft elsewhere (tests use their own network namespace).
 */
public final class ProcessNftExecutor implements NftExecutor {

    /** How much of nft's error output goes into an exception message. */
    private static final int MAX_ERROR_CHARS = 4000;
    /** The largest listing read: about 20 times that of 100,000 open elements. */
    static final int MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

    private final ProcessRunner runner;
    private final String nft;

    /**
     * @param commandPrefix words before the nft program, may be empty
     * @param nft the nft program, {@code nft} to find it on the PATH
     * @param timeout how long one nft run may take before it is killed and reported as failed
     */
    public ProcessNftExecutor(List<String> commandPrefix, String nft, Duration timeout) {
        this.runner = new ProcessRunner(commandPrefix, timeout, MAX_OUTPUT_BYTES);
        this.nft = Objects.requireNonNull(nft, "nft");
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
        return run(arguments, null);
    }

    /** The full command line for these nft arguments. */
    List<String> command(List<String> arguments) {
        List<String> command = new ArrayList<>(runner.prefix());
        command.add(nft);
        command.addAll(arguments);
        return command;
    }

    private String run(List<String> arguments, String stdin) throws FirewallException {
        List<String> argv = new ArrayList<>();
        argv.add(nft);
        argv.addAll(arguments);
        ProcessRunner.Result r;
        try {
            r = runner.run(argv, stdin);
        } catch (ProcessRunner.RunException e) {
            throw new FirewallException(e.getMessage(), e.getCause());
        }
        if (!r.succeeded()) {
            String stderr = r.stderr().strip();
            if (stderr.length() > MAX_ERROR_CHARS) {
                stderr = stderr.substring(0, MAX_ERROR_CHARS) + " [...]";
            }
            throw new FirewallException(String.join(" ", r.argv()) + " failed (exit status " + r.exitCode() + "): "
                    + (stderr.isEmpty() ? "no error output" : stderr), null);
        }
        if (r.stdoutTruncated()) {
            throw new FirewallException(String.join(" ", r.argv()) + " printed more than " + MAX_OUTPUT_BYTES
                    + " bytes; the rest was not read", null);
        }
        return r.stdout();
    }
}
