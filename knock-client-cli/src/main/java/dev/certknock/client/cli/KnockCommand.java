package dev.certknock.client.cli;

import dev.certknock.cli.CommandRunner;
import dev.certknock.cli.ManifestVersionProvider;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code knock}: the certknock client. */
@Command(name = "knock", mixinStandardHelpOptions = true, versionProvider = ManifestVersionProvider.class,
        description = "Sends one signed, encrypted knock packet that asks a certknock server to open ports for you.",
        footer = "%nDocumentation: README.md and docs/ in the certknock repository.")
public final class KnockCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        CommandRunner.main(new KnockCommand(), args);
    }

    /** Runs the command against the given streams: the entry point for tests. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return CommandRunner.run(new KnockCommand(), out, err, args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }
}
