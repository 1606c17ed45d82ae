package dev.certknock.server.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.config.ConfigException;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.config.MinimalConfig;
import dev.certknock.server.config.ServerConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which changes a reload refuses (restart only) and which it applies: each key on its own. */
class RestartOnlyTest {

    private static final String BASE = MinimalConfig.YAML + """
            capture:
              mode: pcap
              interface: eth0
            firewall:
              backend: nftables
            """;

    private static ServerConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(Path.of("test.yaml"), yaml, Path.of("/etc/certknock"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "capture.interface | '  interface: eth0' | '  interface: eth1'",
        "capture.port | '  interface: eth0' | '  interface: eth0\n  port: 1234'",
        "protect | 'protect: [tcp/22]' | 'protect: [tcp/22, tcp/443]'",
        "firewall.backend | '  backend: nftables' | '  backend: iptables'",
        "firewall.table | '  backend: nftables' | '  backend: nftables\n  table: other'",
        "firewall.onStop | '  backend: nftables' | '  backend: nftables\n  onStop: flush'",
        "firewall.maxElements | '  backend: nftables' | '  backend: nftables\n  maxElements: 1000'",
        // the status socket's default lives beside the journal: it moves with it, and is named too
        "'knock.replayJournal, status.socket' | 'protect:' | 'knock:\n  replayJournal: /tmp/other.journal\nprotect:'",
        "knock.timestampWindow | 'protect:' | 'knock:\n  timestampWindow: 60s\nprotect:'",
        "knock.replies | 'protect:' | 'knock:\n  replies: false\nprotect:'",
        "limits.perSourcePerSecond | 'protect:' | 'limits:\n  perSourcePerSecond: 7\nprotect:'",
        "limits.workers | 'protect:' | 'limits:\n  workers: 3\nprotect:'",
        "logging.audit | 'protect:' | 'logging:\n  audit: /var/log/certknock/audit.jsonl\nprotect:'",
        "metrics | 'protect:' | 'metrics:\n  port: 9464\nprotect:'",
        "status.socket | 'protect:' | 'status:\n  socket: /run/certknock/status.sock\nprotect:'",
        "diagnostics.keepRefused | 'protect:' | 'diagnostics:\n  keepRefused:\n    count: 5\nprotect:'",
    })
    void aRestartOnlyKeyIsNamed(String key, String from, String to) throws Exception {
        ServerConfig before = parse(BASE);
        ServerConfig after = parse(BASE.replace(from, to.replace("\\n", "\n")));
        assertThat(String.join(", ", RestartOnly.changed(before, after))).isEqualTo(key);
        assertThat(RestartOnly.message(RestartOnly.changed(before, after))).contains(key, "restart");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "server.name | '  name: gw1' | '  name: gw2'",
        "server.identities | '    - bundle: server.p12' | '    - bundle: next.p12'",
        "trust | '  anchors: [ca.pem]' | '  anchors: [ca.pem, new-ca.pem]'",
        "crl | 'protect:' | 'crl:\n  sources:\n    - url: https://ca.example.test/ca.crl\n  staleGrace: 1h\nprotect:'",
        "knock policy | 'protect:' | 'knock:\n  maxOpenSeconds: 600\n  defaultOpenSeconds: 30\n  declaredAddress: prefer-declared\nprotect:'",
    })
    void aReloadableChangeIsNotRefused(String what, String from, String to) throws Exception {
        ServerConfig before = parse(BASE);
        ServerConfig after = parse(BASE.replace(from, to.replace("\\n", "\n")));
        assertThat(after).isNotEqualTo(before);
        assertThat(RestartOnly.changed(before, after)).as(what).isEmpty();
    }

    @Test
    void everyChangedKeyIsNamedInConfigurationOrder() throws Exception {
        ServerConfig before = parse(BASE);
        ServerConfig after = parse(BASE.replace("protect: [tcp/22]", "protect: [tcp/23]\nlimits:\n  workers: 9")
                .replace("  interface: eth0", "  interface: eth1"));
        assertThat(RestartOnly.changed(before, after)).containsExactly("capture.interface", "protect", "limits.workers");
        assertThat(RestartOnly.message(RestartOnly.changed(before, after)))
                .contains("capture.interface, protect, limits.workers", "put back the running values");
    }
}
