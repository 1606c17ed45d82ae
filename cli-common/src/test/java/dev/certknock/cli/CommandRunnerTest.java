package dev.certknock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

class CommandRunnerTest {

    @Command(name = "demo", mixinStandardHelpOptions = true)
    static final class Demo implements Callable<Integer> {
        @Parameters(index = "0")
        String what;

        @Override
        public Integer call() {
            return switch (what) {
                case "ok" -> 0;
                case "refuse" -> throw new UserException(ExitCodes.BAD_INPUT, "config.yaml line 3: port 0 is not a port");
                default -> throw new IllegalStateException("boom");
            };
        }
    }

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return CommandRunner.run(new Demo(), new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void successIsZero() {
        assertThat(run("ok")).isZero();
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void aUserExceptionPrintsItsMessageAloneWithItsCode() {
        assertThat(run("refuse")).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(err.toString()).contains("demo: config.yaml line 3: port 0 is not a port").doesNotContain("at dev.");
    }

    @Test
    void anythingElseIsAnInternalError() {
        assertThat(run("crash")).isEqualTo(ExitCodes.INTERNAL_ERROR);
        assertThat(err.toString()).contains("internal error").contains("boom").contains("please report");
    }

    @Test
    void aMissingArgumentIsAUsageError() {
        assertThat(run()).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("Missing required parameter");
    }
}
