package dev.certknock.server.firewall;

import dev.certknock.server.grant.TestHolders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConntrackCutterTest {

    private static GrantDecision grant(String address, String... grants) throws Exception {
        return TestHolders.decision(InetAddress.getByName(address), List.of(grants).stream().map(PortGrant::parse).toList(),
                Duration.ofSeconds(60), Instant.parse("2026-12-02T10:00:00Z"), new X500Principal("CN=alice"),
                new X500Principal("CN=CA"), BigInteger.TEN);
    }

    @Test
    void oneDeletionPerPortRangeWithTheAddressFamily() throws Exception {
        assertThat(ConntrackCutter.commands(grant("192.0.2.7", "tcp/22", "udp/8000-8100"))).containsExactly(
                List.of("conntrack", "-D", "-f", "ipv4", "-s", "192.0.2.7", "-p", "tcp", "--dport", "22"),
                List.of("conntrack", "-D", "-f", "ipv4", "-s", "192.0.2.7", "-p", "udp", "--dport", "8000-8100"));
        assertThat(ConntrackCutter.commands(grant("2001:db8::7", "tcp/22"))).containsExactly(
                List.of("conntrack", "-D", "-f", "ipv6", "-s", "2001:db8:0:0:0:0:0:7", "-p", "tcp", "--dport", "22"));
    }

    /** A stand-in conntrack on a private PATH prefix, answering as conntrack 1.4.7 does. */
    private static ConntrackCutter cutterAnswering(Path dir, String script) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path conntrack = bin.resolve("conntrack");
        Files.writeString(conntrack, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(conntrack, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new ConntrackCutter(new ProcessRunner(List.of("/usr/bin/env", "PATH=" + bin + ":/usr/bin:/bin"),
                Duration.ofSeconds(5)));
    }

    @Test
    void countsWhatConntrackDeletedAndNothingFoundIsNoError(@TempDir Path dir) throws Exception {
        ConntrackCutter two = cutterAnswering(dir, "echo 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.' >&2");
        assertThat(two.cut(grant("192.0.2.7", "tcp/22", "tcp/80"))).isEqualTo(4);
        ConntrackCutter none = cutterAnswering(dir.resolve("none"),
                "echo 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.' >&2; exit 1");
        assertThat(none.cut(grant("192.0.2.7", "tcp/22"))).isZero();
    }

    @Test
    void aFailingOrMissingConntrackIsAFirewallException(@TempDir Path dir) throws Exception {
        ConntrackCutter failing = cutterAnswering(dir, "echo 'Operation not permitted' >&2; exit 1");
        assertThatThrownBy(() -> failing.cut(grant("192.0.2.7", "tcp/22"))).isInstanceOf(FirewallException.class)
                .hasMessageContaining("conntrack failed").hasMessageContaining("Operation not permitted");
        ConntrackCutter missing = new ConntrackCutter(new ProcessRunner(List.of("/usr/bin/env", "PATH=" + dir.resolve("empty")),
                Duration.ofSeconds(5)));
        assertThatThrownBy(() -> missing.cut(grant("192.0.2.7", "tcp/22"))).isInstanceOf(FirewallException.class);
    }
}
