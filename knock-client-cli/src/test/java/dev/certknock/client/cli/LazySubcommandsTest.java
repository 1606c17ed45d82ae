package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.cli.CommandRunner;
import dev.certknock.testing.help.HelpChecks;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * knock registers its subcommands only when the command line may need them (DESIGN.md D35): every command line
 * gives the same output and exit code as the full model built up front, and the help's examples stay whole.
 */
class LazySubcommandsTest {

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    private CliContext context() {
        return CliContext.of(Map.of("CERTKNOCK_TARGETS", tmp.resolve("targets.yaml").toString()),
                InputStream.nullInputStream(), OutputStream.nullOutputStream(), tmp);
    }

    private Run lazy(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = KnockCommand.run(context(), new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The model as it was before D35: every subcommand registered before parsing. */
    private Run eager(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CommandRunner.run(full(new KnockCommand(context())).getCommandSpec(), new PrintWriter(out),
                new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    private static CommandLine full(KnockCommand command) {
        CommandLine cl = new CommandLine(command);
        KnockCommand.SUBCOMMANDS.forEach(cl::addSubcommand);
        return cl;
    }

    @Test
    void everyKindOfCommandLineBehavesAsWithTheFullModel() {
        List<String[]> lines = List.of(new String[0], new String[] {"--help"}, new String[] {"-h"},
                new String[] {"--version"}, new String[] {"--dry-run"}, new String[] {"-v", "--dry-run"},
                new String[] {"gw1", "--no-such-option"}, new String[] {"gw1", "tcp/22", "--bundle"},
                new String[] {"targte", "add"}, new String[] {"no-such-target"},
                new String[] {"no-such-target", "tcp/22", "--dry-run", "--wait"},
                new String[] {"target", "list"}, new String[] {"target"}, new String[] {"ssh-proxy", "--help"},
                new String[] {"ssh-proxy"}, new String[] {"gw1", "ssh-proxy"}, new String[] {"generate-completion"},
                // ssh-proxy parses with its own lean model (D42): a run, help, version, errors, options before it
                new String[] {"ssh-proxy", "gw1", "22"}, new String[] {"ssh-proxy", "gw1", "22", "--help"},
                new String[] {"ssh-proxy", "gw1", "22", "-V"}, new String[] {"ssh-proxy", "gw1", "port"},
                new String[] {"-v", "ssh-proxy", "gw1", "22"}, new String[] {"ssh-proxy", "gw1", "22", "--timeout", "0"},
                new String[] {"--version", "ssh-proxy", "gw1", "22"}, new String[] {"gw1", "--alias", "ssh-proxy"},
                new String[] {"ssh-proxy", "gw1", "22", "--bundle", "none.p12", "--server-cert", "none.pem"});
        for (String[] args : lines) {
            Run lazy = lazy(args);
            Run eager = eager(args);
            assertThat(lazy).as("knock %s", String.join(" ", args)).isEqualTo(eager);
        }
    }

    @Test
    void theUsageListsTheSubcommands() {
        assertThat(lazy("--help").out()).contains("Commands:").contains("target").contains("ssh-proxy");
        assertThat(lazy().out()).contains("Commands:").contains("ssh-proxy");
        assertThat(lazy("--dry-run").out()).contains("Commands:").contains("ssh-proxy");
    }

    @Test
    void examplesAreWholeAt80Columns() {
        List<String> problems = HelpChecks.problems(full(new KnockCommand(context())), args -> lazy(args).out());
        assertThat(problems).isEmpty();
    }
}
