package dev.certknock.server.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.ServerFixture;
import dev.certknock.server.cli.KnockServerCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** diagnostics.keepRefused in check-config: bad values at their line, an unwritable directory named. */
class KeepRefusedConfigTest {

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int check(String yaml) throws Exception {
        Path config = f.writeConfig(dir, f.ca.crl().build(), yaml);
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return KnockServerCommand.run(new PrintWriter(out), new PrintWriter(err), "check-config", config.toString());
    }

    @Test
    void valuesAreCheckedAtTheirLine() throws Exception {
        assertThat(check("diagnostics:\n  keepRefused:\n    count: 20\n    maxBytes: 262144\n    perSecond: 5\n")).as(err.toString()).isZero();
        assertThat(check("diagnostics:\n  keepRefused:\n    count: 0\n")).isEqualTo(3);
        assertThat(err.toString()).contains("config.yaml:").contains("diagnostics.keepRefused.count is 0; it must be between 1 and 1000");
        assertThat(check("diagnostics:\n  keepRefused:\n    maxBytes: 100000\n")).isEqualTo(3);
        assertThat(err.toString()).contains("diagnostics.keepRefused.count is required");
        assertThat(check("diagnostics:\n  keepRefused:\n    count: 5\n    perSecond: 1000\n")).isEqualTo(3);
        assertThat(err.toString()).contains("diagnostics.keepRefused.perSecond is 1000");
        Files.writeString(dir.resolve("a-file"), "x");
        assertThat(check("diagnostics:\n  keepRefused:\n    count: 5\n    directory: a-file\n")).isEqualTo(3);
        assertThat(err.toString()).contains("a-file exists but is not a directory");
    }
}
