package dev.certknock.server.firewall.command;

import dev.certknock.server.grant.TestHolders;
import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.grant.GrantDecision;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandStateTest {

    @TempDir
    Path dir;

    private static Map<CommandState.Element, GrantDecision> oneGrant() throws IOException {
        InetAddress address = InetAddress.getByName("192.0.2.7");
        PortGrant grant = PortGrant.parse("tcp/22");
        GrantDecision d = TestHolders.decision(address, List.of(grant), Duration.ofSeconds(30),
                Instant.parse("2026-01-01T00:00:00Z"), new X500Principal("CN=alice"), new X500Principal("CN=ca"),
                BigInteger.TEN);
        Map<CommandState.Element, GrantDecision> open = new LinkedHashMap<>();
        open.put(new CommandState.Element(address, grant), d);
        return open;
    }

    @Test
    void savingNeverWritesThroughAFileLyingAtAPredictableTemporaryName() throws IOException {
        Path file = dir.resolve("open-grants.json");
        Path victim = dir.resolve("victim");
        Files.writeString(victim, "not yours");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
        // the name the earlier code reused for every save, opened with CREATE and TRUNCATE_EXISTING
        Files.createSymbolicLink(dir.resolve(".open-grants.json.tmp"), victim);

        CommandState state = new CommandState(file);
        state.save(oneGrant());

        assertThat(victim).hasContent("not yours");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(victim))).isEqualTo("rw-r--r--");
        assertThat(state.load()).containsOnlyKeys(oneGrant().keySet());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(new String(Files.readAllBytes(file), StandardCharsets.UTF_8)).contains("192.0.2.7");
    }
}
