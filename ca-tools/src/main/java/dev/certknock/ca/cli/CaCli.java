package dev.certknock.ca.cli;

import dev.certknock.ca.CaException;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** What every knock-ca subcommand shares: the CA directory option, exit codes, error mapping. */
final class CaCli {

    static final Clock CLOCK = Clock.systemUTC();

    private CaCli() {
    }

    static SecureRandom random() {
        return new SecureRandom();
    }

    /** Runs a service call, turning its {@link CaException} into the exit code the kind calls for. */
    static <T> T call(Supplier<T> service) {
        try {
            return service.get();
        } catch (CaException e) {
            int code = switch (e.kind()) {
                case BAD_INPUT -> ExitCodes.BAD_INPUT;
                case BAD_CREDENTIALS -> ExitCodes.BAD_CREDENTIALS;
                case FAILURE -> ExitCodes.FAILURE;
            };
            throw new UserException(code, e.getMessage(), e);
        }
    }

    /** The {@code --dir} option, defaulting to $KNOCK_CA_DIR or the current directory. */
    static final class CaDir {
        @Option(names = {"-d", "--dir"}, paramLabel = "DIR", defaultValue = "${env:KNOCK_CA_DIR:-.}",
                description = "The CA directory (default: $KNOCK_CA_DIR, else the current directory).")
        Path dir;
    }

    /** Mixed into every subcommand: the exit codes section of its help. */
    @Command(exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
        "  0:Success.",
        "  1:Failed; the message says why (e.g. already revoked, output exists).",
        "  2:Invalid command line, or no password source.",
        "  3:Invalid input file or value (e.g. a bad grant, not a CA directory).",
        "  4:Credentials unusable (wrong password).",
        " 70:Internal error (please report it)."})
    static final class ExitCodeHelp {
    }
}
