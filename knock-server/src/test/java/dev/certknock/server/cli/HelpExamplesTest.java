package dev.certknock.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.testing.help.HelpChecks;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** knock-server's help at 80 columns: every example line whole (pasting it works), nothing else wider (issue 12). */
class HelpExamplesTest {

    @Test
    void examplesAreWholeAt80Columns() {
        assertThat(HelpChecks.problems(new CommandLine(new KnockServerCommand()), args -> {
            StringWriter out = new StringWriter();
            KnockServerCommand.run(new PrintWriter(out), new PrintWriter(new StringWriter()), args);
            return out.toString();
        })).isEmpty();
    }
}
