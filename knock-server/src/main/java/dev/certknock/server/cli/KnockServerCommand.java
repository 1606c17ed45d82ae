package dev.certknock.server.cli;

import dev.certknock.cli.CommandRunner;
import dev.certknock.cli.GenerateManPageCommand;
import dev.certknock.cli.ManifestVersionProvider;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code knock-server}: the certknock server. */
@Command(name = "knock-server", mixinStandardHelpOptions = true, subcommands = {RunCommand.class, CheckConfigCommand.class, VerifyCommand.class, StatusCommand.class,
        AutoComplete.GenerateCompletion.class, GenerateManPageCommand.class}, versionProvider = ManifestVersionProvider.class,
        description = "Validates knock packets against trust anchors and CRLs and opens the granted ports in the firewall for a limited time.",
        footer = "%nDocumentation: README.md and docs/ in the certknock repository.")
public final class KnockServerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        CommandRunner.main(new KnockServerCommand(), args);
    }

    /** Runs the command against the given streams: the entry point for tests. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return CommandRunner.run(new KnockServerCommand(), out, err, args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }
}
