package dev.certknock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@link CommandRunner#run(java.util.function.Supplier, List, PrintWriter, PrintWriter, String...)}: D35. */
class LazySubcommandTest {

    /** How many models of {@link Sub} picocli built: it makes the version provider when it builds the model. */
    static final AtomicInteger SUBS = new AtomicInteger();

    @Command(name = "top", mixinStandardHelpOptions = true, version = "top 1")
    static final class Top implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1")
        String what;

        @Option(names = "--flag")
        boolean flag;

        @Override
        public Integer call() {
            if (what == null) {
                throw new UserException(ExitCodes.USAGE, "no what");
            }
            return what.equals("ok") ? ExitCodes.OK : 42;
        }
    }

    public static final class CountingVersion implements CommandLine.IVersionProvider {
        public CountingVersion() {
            SUBS.incrementAndGet();
        }

        @Override
        public String[] getVersion() {
            return new String[] {"sub 1"};
        }
    }

    @Command(name = "sub", aliases = "s", description = "The subcommand.", versionProvider = CountingVersion.class)
    static final class Sub implements Callable<Integer> {

        @Override
        public Integer call() {
            return 7;
        }
    }

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void reset() {
        SUBS.set(0);
    }

    private int run(String... args) {
        return CommandRunner.run(Top::new, List.of(Sub.class), new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void aCommandLineWithAPositionalAndNoSubcommandNameBuildsNoSubcommand() {
        assertThat(run("ok", "--flag")).isZero();
        assertThat(run("other")).isEqualTo(42);
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).contains("top 1");
        assertThat(SUBS).hasValue(0);
    }

    @Test
    void aSubcommandNameOrAliasRunsTheSubcommand() {
        assertThat(run("sub")).isEqualTo(7);
        assertThat(run("s")).isEqualTo(7);
        assertThat(run("--flag", "sub")).isEqualTo(7);
        assertThat(SUBS.get()).isPositive();
    }

    @Test
    void helpAndUsageErrorsComeFromTheFullModel() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("Commands:").contains("sub");
        assertThat(run("ok", "--no-such")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("Unknown option: '--no-such'");
        // No positional: the command itself sees the full model (knock prints its usage then).
        assertThat(run("--flag")).isEqualTo(ExitCodes.USAGE);
        assertThat(SUBS.get()).isPositive();
    }

    @Test
    void anArgumentFileMayNameASubcommand() {
        Set<String> names = CommandRunner.subcommandNames(List.of(Sub.class));
        assertThat(CommandRunner.namesSubcommand(names, "@args.txt")).isTrue();
        assertThat(CommandRunner.namesSubcommand(names, "ok", "sub")).isTrue();
        assertThat(CommandRunner.namesSubcommand(names, "ok", "--flag")).isFalse();
    }
}
