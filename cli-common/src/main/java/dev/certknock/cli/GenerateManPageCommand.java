package dev.certknock.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * {@code generate-man-page}, a hidden subcommand of each certknock program: writes the man pages of the program
 * and its subcommands as AsciiDoc, from the same picocli model as --help (turn them into roff with
 * {@code asciidoctor -b manpage}). Hidden: a packaging tool.
 */
@Command(name = "generate-man-page", hidden = true, mixinStandardHelpOptions = true,
        description = "Writes AsciiDoc man pages for this program and its subcommands into a directory.")
public final class GenerateManPageCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-d", "--dir"}, paramLabel = "DIR", defaultValue = "man",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Override
    public Integer call() {
        CommandSpec root = spec.root();
        try {
            Files.createDirectories(dir);
            int rc = ManPageGenerator.generateManPage(dir.toFile(), (File) null, new boolean[0], true, root);
            if (rc != 0) {
                throw new UserException(ExitCodes.FAILURE, "the man page generator failed (exit code " + rc + ")");
            }
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot write man pages to " + dir + ": " + e.getMessage(), e);
        }
        spec.commandLine().getOut().println("wrote man pages (AsciiDoc) to " + dir
                + "; make roff with: asciidoctor -b manpage " + dir + "/*.adoc");
        return ExitCodes.OK;
    }
}
