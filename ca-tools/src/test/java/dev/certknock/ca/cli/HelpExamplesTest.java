package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.testing.help.HelpChecks;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** knock-ca's help at 80 columns: every example line whole (pasting it works), nothing else wider (issue 12). */
class HelpExamplesTest {

    @Test
    void examplesAreWholeAt80Columns() {
        assertThat(HelpChecks.problems(new CommandLine(new KnockCaCommand()), args -> CaTestSupport.run(args).out()))
                .isEmpty();
    }
}
