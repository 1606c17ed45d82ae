package dev.certknock.server.process;

import java.util.List;

/**
 * Runs one external program. {@link ProcessRunner} is the real one; tests of the backends run theirs against an
 * in-memory firewall that answers as the real programs do.
 */
public interface ProgramRunner {

    /**
     * Runs {@code argv}, writes {@code stdin} (when not null) and waits for it to exit.
     *
     * @throws ProcessRunner.RunException when it cannot be started, or was killed after the timeout
     */
    ProcessRunner.Result run(List<String> argv, String stdin) throws ProcessRunner.RunException;

    /** Runs {@code argv} with nothing on standard input. */
    default ProcessRunner.Result run(List<String> argv) throws ProcessRunner.RunException {
        return run(argv, null);
    }
}
