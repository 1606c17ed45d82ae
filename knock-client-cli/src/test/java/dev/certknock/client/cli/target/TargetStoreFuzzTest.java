package dev.certknock.client.cli.target;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.protocol.grant.PortGrant;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Any targets file text (the input's bytes as UTF-8) through the store's reading ({@link TargetStore#parse}, what
 * {@link TargetStore#load} does after reading the file): it either returns only valid targets (checked here
 * independently: name, host, port 1-65535, duration 1-86400, grants that parse, no empty file names), which the
 * store writes back to a text that reads back to the same targets, or throws {@link UserException}
 * {@link ExitCodes#BAD_INPUT} naming the file. Nothing else escapes. In a plain {@code mvn test} Jazzer runs the
 * committed inputs; {@code JAZZER_FUZZ=1} fuzzes.
 */
class TargetStoreFuzzTest {

    private static final TargetStore STORE = new TargetStore(Path.of("/fuzz/targets.yaml"));

    @FuzzTest(maxDuration = "2m")
    void anyTargetsFile(byte[] input) throws Exception {
        String text = new String(input, StandardCharsets.UTF_8);
        Map<String, TargetEntry> targets;
        try {
            targets = STORE.parse(text);
        } catch (UserException e) {
            assertThat(e.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(e.getMessage()).startsWith("targets file /fuzz/targets.yaml").doesNotEndWith("null");
            return;
        }
        for (Map.Entry<String, TargetEntry> e : targets.entrySet()) {
            assertThat(e.getKey()).matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
            TargetEntry t = e.getValue();
            assertThat(t).isNotNull();
            assertThat(t.host()).isNotBlank().doesNotContain(" ");
            if (t.port() != null) {
                assertThat(t.port()).isBetween(1, 65535);
            }
            if (t.duration() != null) {
                assertThat(t.duration()).isBetween(1, 86_400);
            }
            t.grants().forEach(PortGrant::parse); // throws (a finding) for a grant that does not parse
            for (String f : new String[] {t.serverCert(), t.bundle(), t.alias(), t.caCert()}) {
                assertThat(f == null || !f.isBlank()).as("no empty file name").isTrue();
            }
        }
        assertThat(STORE.parse(STORE.render(targets))).as("what is read writes back the same").isEqualTo(targets);
    }
}
