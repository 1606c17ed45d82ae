package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class KnockCaCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return KnockCaCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void helpDescribesTheToolAndItsExitCodes() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("Usage: knock-ca").contains("port grants").contains("Exit codes:").contains("70");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void versionNamesTheTool() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("knock-ca ").contains("certknock");
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        assertThat(run("--no-such-option")).isEqualTo(2);
        assertThat(err.toString()).contains("Unknown option: '--no-such-option'");
    }
}
