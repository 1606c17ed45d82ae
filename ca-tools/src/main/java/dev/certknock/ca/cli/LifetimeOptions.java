package dev.certknock.ca.cli;

import dev.certknock.ca.issue.Lifetime;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code --valid-for DURATION} and its older spelling {@code --days N}, shared by issue-client, issue-server and renew. */
final class LifetimeOptions {

    @Option(names = "--valid-for", paramLabel = "DURATION",
            description = "How long the certificate is valid from now: 30m, 8h, 90d, 2w, 1d12h or ISO-8601 PT8H; "
                    + "at least 5m, at most 3650d, never past the CA's own notAfter (notBefore is 5 minutes earlier, for clock skew).")
    String validFor;

    @Option(names = "--days", paramLabel = "DAYS", description = "Same as --valid-for DAYSd (kept for existing scripts).")
    Integer days;

    /** The lifetime asked for, or {@code otherwise} when neither option is given. */
    Duration resolve(Duration otherwise) {
        if (validFor != null && days != null) {
            throw new UserException(ExitCodes.USAGE, "give --valid-for or --days, not both (--days " + days
                    + " is --valid-for " + days + "d)");
        }
        if (validFor != null) {
            return CaCli.call(() -> Lifetime.parse(validFor, "--valid-for"));
        }
        if (days != null) {
            return CaCli.call(() -> Lifetime.days(days));
        }
        return otherwise;
    }
}
