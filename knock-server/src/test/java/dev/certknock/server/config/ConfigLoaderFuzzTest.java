package dev.certknock.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Any configuration text (the input's bytes as UTF-8) through {@link ConfigLoader#parse}: it returns a configuration
 * or refuses with {@link ConfigException}, whose message names the file, a line inside the text (or none) and says
 * something; nothing else escapes (no bare NullPointerException from a {@code ~}, no "null" as the whole message).
 * In a plain {@code mvn test} Jazzer runs the committed inputs; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ConfigLoaderFuzzTest {

    private static final Path FILE = Path.of("fuzz.yaml");

    @FuzzTest(maxDuration = "2m")
    void anyConfigText(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        ServerConfig config;
        try {
            config = ConfigLoader.parse(FILE, text, Path.of("/etc/certknock"));
        } catch (ConfigException e) {
            assertThat(e.getMessage()).startsWith("fuzz.yaml");
            String said = e.getMessage().replaceFirst("^fuzz\\.yaml(:\\d+(:\\d+)?)?: ", "");
            assertThat(said).as(e.getMessage()).isNotBlank().isNotEqualTo("null").doesNotEndWith(": null");
            assertThat(e.line()).isBetween(0, (int) text.lines().count() + 1);
            assertThat(e.column()).isNotNegative();
            return;
        }
        assertThat(config).isNotNull();
        assertThat(config.protect()).isNotEmpty().doesNotContainNull();
        assertThat(config.server()).isNotNull();
        assertThat(config.trust()).isNotNull();
    }
}
