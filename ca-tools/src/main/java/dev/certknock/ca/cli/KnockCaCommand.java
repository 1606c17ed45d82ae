package dev.certknock.ca.cli;

import dev.certknock.cli.CommandRunner;
import dev.certknock.cli.GenerateManPageCommand;
import dev.certknock.cli.ManifestVersionProvider;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code knock-ca}: the certknock certificate authority toolkit. */
@Command(name = "knock-ca", mixinStandardHelpOptions = true, versionProvider = ManifestVersionProvider.class,
        description = "Issues certknock client certificates with port grants and server certificates with knock keys, renews and revokes them and publishes CRLs.",
        subcommands = {InitCommand.class, IssueServerCommand.class, IssueClientCommand.class, CsrCommand.class,
            BundleCommand.class, RenewCommand.class, RevokeCommand.class, CrlCommand.class, ListCommand.class, InspectCommand.class,
            AutoComplete.GenerateCompletion.class, GenerateManPageCommand.class},
        footer = {"%nThe CA directory comes from --dir, else $KNOCK_CA_DIR, else the current directory.",
            "Passwords come from --*-password-file FILE, --*-password-env NAME, or a prompt without echo; never from the command line.",
            "Shell completion: source <(knock-ca generate-completion); man pages: knock-ca generate-man-page --dir DIR",
            "Documentation: docs/CA.md in the certknock repository."})
public final class KnockCaCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        CommandRunner.main(new KnockCaCommand(), args);
    }

    /** Runs the command against the given streams: the entry point for tests. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return CommandRunner.run(new KnockCaCommand(), out, err, args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }
}
