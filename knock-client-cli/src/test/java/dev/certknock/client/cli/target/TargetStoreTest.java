package dev.certknock.client.cli.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10: a hand-edited targets file was taken as read (port 70000, duration 0, grant "ssh", a name with a space),
 * and the mistake only showed later, somewhere else, or not at all. Now {@link TargetStore#load} refuses it with
 * the file, the line, the target, and what to write instead.
 */
class TargetStoreTest {

    private static final String GOOD = """
            targets:
              gw1:
                host: gw1.example.test
                port: 62201
                serverCert: /home/alice/gw1.pem
                bundle: /home/alice/alice.p12
                grants: [tcp/22, udp/8000-8100]
                duration: 300
            """;

    @TempDir
    Path dir;

    private Path file(String text) throws Exception {
        Path f = dir.resolve("targets.yaml");
        Files.writeString(f, text);
        return f;
    }

    private UserException refused(String text) throws Exception {
        Path f = file(text);
        UserException e = (UserException) org.assertj.core.api.Assertions.catchThrowable(() -> new TargetStore(f).load());
        assertThat(e).as("refused: %s", text).isNotNull();
        assertThat(e.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(e.getMessage()).startsWith("targets file " + f.toAbsolutePath());
        return e;
    }

    @Test
    void aValidFileLoads() throws Exception {
        Map<String, TargetEntry> all = new TargetStore(file(GOOD)).load();
        assertThat(all).containsOnlyKeys("gw1");
        assertThat(all.get("gw1").port()).isEqualTo(62201);
        assertThat(all.get("gw1").duration()).isEqualTo(300);
        assertThat(all.get("gw1").grants()).containsExactly("tcp/22", "udp/8000-8100");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"00:1.", "1:2:3:4:5:6:7:8", "10:20", "0x1F", "1e3", "on",
        "no", "~", "null", "2026-12-05", ".inf", "-1", "192.0.2.10", "2001:db8::1", "gw1.example.test"})
    void whatIsWrittenReadsBackTheSameWhateverTheHostLooksLike(String host) throws Exception {
        // Found by TargetStoreFuzzTest: a host written without quotes was read back as a YAML 1.1 number.
        TargetStore store = new TargetStore(dir.resolve("targets.yaml"));
        Map<String, TargetEntry> all = Map.of("gw1", new TargetEntry(host, 62201, "/home/alice/gw1.pem",
                "/home/alice/alice.p12", null, null, java.util.List.of("tcp/22"), 300, null, null));
        String written = store.render(all);
        assertThat(store.parse(written)).isEqualTo(all);
        if (host.matches("[0-9]+(\\.[0-9]+){3}|[a-z][a-z0-9.]*") && !host.equals("on") && !host.equals("no")
                && !host.equals("null")) {
            assertThat(written).as("plain where plain is safe").contains("host: " + host + "\n");
        }
    }

    @Test
    void aPortOutsideTheRangeIsRefusedAtItsLine() throws Exception {
        assertThat(refused(GOOD.replace("port: 62201", "port: 70000")).getMessage())
                .contains(" line 4, column 5: target 'gw1' has port 70000, outside 1-65535")
                .contains("leave it out for 62201");
        assertThat(refused(GOOD.replace("port: 62201", "port: 0")).getMessage()).contains("line 4").contains("port 0");
    }

    @Test
    void aDurationOutsideTheRangeIsRefusedAtItsLine() throws Exception {
        assertThat(refused(GOOD.replace("duration: 300", "duration: 0")).getMessage())
                .contains(" line 8, column 5: target 'gw1' has duration 0, outside 1-86400 seconds");
        assertThat(refused(GOOD.replace("duration: 300", "duration: 86401")).getMessage()).contains("duration 86401");
    }

    @Test
    void aGrantThatDoesNotParseIsRefusedAtItsLine() throws Exception {
        assertThat(refused(GOOD.replace("[tcp/22, udp/8000-8100]", "[tcp/22, ssh]")).getMessage())
                .contains(" line 7, column 5: target 'gw1' has grant 'ssh' that is not valid")
                .contains("write grants such as tcp/22");
        assertThat(refused(GOOD.replace("[tcp/22, udp/8000-8100]", "[tcp/0]")).getMessage()).contains("grant 'tcp/0'");
        assertThat(refused(GOOD.replace("[tcp/22, udp/8000-8100]", "[~]")).getMessage()).contains("line 7");
    }

    @Test
    void aNameThatTargetAddWouldRefuseIsRefused() throws Exception {
        assertThat(refused(GOOD.replace("  gw1:", "  \"gw 1\":")).getMessage())
                .contains(" line 2, column 3: target 'gw 1' has a name that is not allowed");
        assertThat(refused(GOOD.replace("  gw1:", "  \"-x\":")).getMessage()).contains("name that is not allowed");
    }

    @Test
    void aHostWithSpacesOrAnEmptyFileKeyIsRefused() throws Exception {
        assertThat(refused(GOOD.replace("host: gw1.example.test", "host: \"gw1 example\"")).getMessage())
                .contains(" line 3, column 5: target 'gw1' has a host with spaces");
        assertThat(refused(GOOD.replace("bundle: /home/alice/alice.p12", "bundle: \" \"")).getMessage())
                .contains(" line 6, column 5: target 'gw1' has an empty bundle");
        assertThat(refused("targets:\n  gw1:\n    port: 62201\n").getMessage())
                .contains(" line 2, column 3: target 'gw1' has no host");
        assertThat(refused("targets:\n  gw1: ~\n").getMessage()).contains(" line 2, column 3: target 'gw1' is empty");
    }

    @Test
    void aTypeErrorNamesItsLine() throws Exception {
        assertThat(refused(GOOD.replace("port: 62201", "port: many")).getMessage()).contains(" line 4, column 5 is not valid");
    }
}
