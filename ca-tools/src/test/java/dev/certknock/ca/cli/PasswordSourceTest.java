package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.cli.UserException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordSourceTest {

    @TempDir
    Path tmp;

    private final PasswordSource source = new PasswordSource(Map.of("CA_PASS", "from-env")::get, null);

    private char[] read(Path file, String env) {
        return source.read("CA key", file, env, "--ca-password-file", "--ca-password-env", false);
    }

    @Test
    void fromTheFirstLineOfAFile() throws Exception {
        Files.writeString(tmp.resolve("p"), "pässword with spaces \r\nsecond line\n");
        assertThat(new String(read(tmp.resolve("p"), null))).isEqualTo("pässword with spaces ");
        Files.writeString(tmp.resolve("q"), "no newline");
        assertThat(new String(read(tmp.resolve("q"), null))).isEqualTo("no newline");
    }

    @Test
    void fromANamedEnvironmentVariable() {
        assertThat(new String(read(null, "CA_PASS"))).isEqualTo("from-env");
        assertThatThrownBy(() -> read(null, "UNSET")).isInstanceOf(UserException.class)
                .hasMessageContaining("environment variable UNSET (--ca-password-env) is not set");
    }

    @Test
    void refusals() throws Exception {
        assertThatThrownBy(() -> read(null, null)).hasMessageContaining("no terminal to ask on");
        assertThatThrownBy(() -> read(tmp.resolve("missing"), null)).hasMessageContaining("does not exist");
        Files.writeString(tmp.resolve("empty"), "\n");
        assertThatThrownBy(() -> read(tmp.resolve("empty"), null)).hasMessageContaining("is empty");
        Files.writeString(tmp.resolve("p"), "x\n");
        assertThatThrownBy(() -> read(tmp.resolve("p"), "CA_PASS")).hasMessageContaining("not both");
    }
}
