package dev.certknock.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnockServerCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return KnockServerCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void helpDescribesTheToolAndItsExitCodes() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("Usage: knock-server").contains("Validates knock packets").contains("Exit codes:").contains("70");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void versionNamesTheTool() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("knock-server ").contains("certknock");
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        assertThat(run("--no-such-option")).isEqualTo(2);
        assertThat(err.toString()).contains("Unknown option: '--no-such-option'");
    }

    @Test
    void manPagesAndCompletionComeFromTheSameModelAsHelp(@TempDir Path dir) throws Exception {
        Path man = dir.resolve("man");
        assertThat(run("generate-man-page", "--dir", man.toString())).as(err.toString()).isZero();
        assertThat(Files.readString(man.resolve("knock-server.adoc"))).contains("= knock-server(1)");
        assertThat(Files.readString(man.resolve("knock-server-verify.adoc"))).contains("--source");
        assertThat(man.resolve("knock-server-check-config.adoc")).exists();
        out.getBuffer().setLength(0);
        assertThat(run("generate-completion")).isZero();
        assertThat(out.toString()).contains("complete -F").contains("check-config").contains("verify");
    }
}
