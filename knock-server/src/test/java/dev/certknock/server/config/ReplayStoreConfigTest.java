package dev.certknock.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.server.reload.RestartOnly;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code knock.replayStore} and its companions (docs/CONFIGURATION.md, docs/DESIGN.md D36). */
class ReplayStoreConfigTest {

    private static final String MINIMAL = MinimalConfig.YAML + "knock:\n  replayJournal: replay.journal\n";

    private static ServerConfig parse(String knockYaml) throws ConfigException {
        return MinimalConfig.parse(MINIMAL + knockYaml);
    }

    @Test
    void localByDefaultRefusingDuringAnOutage() throws Exception {
        ServerConfig.Knock k = parse("").knock();
        assertThat(k.replayStore()).isEqualTo("local");
        assertThat(k.sharedReplayStore()).isFalse();
        assertThat(k.replayStoreTimeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(k.replayStoreOutage()).isEqualTo(ServerConfig.ReplayStoreOutage.REFUSE);
    }

    @Test
    void aRedisUriWithAPasswordIsKeptForTheClientAndRedactedEverywhereElse() throws Exception {
        ServerConfig.Knock k = parse("""
                  replayStore: rediss://:hunter22hunter@redis.example.test:6380/2
                  replayStoreTimeout: 50ms
                  replayStoreOutage: local-only
                """).knock();
        assertThat(k.sharedReplayStore()).isTrue();
        assertThat(k.replayStore()).isEqualTo("rediss://:hunter22hunter@redis.example.test:6380/2");
        assertThat(k.replayStoreForLogs()).isEqualTo("rediss://***@redis.example.test:6380/2");
        assertThat(k.toString()).doesNotContain("hunter22hunter").contains("rediss://***@redis.example.test");
        assertThat(k.replayStoreTimeout()).isEqualTo(Duration.ofMillis(50));
        assertThat(k.replayStoreOutage()).isEqualTo(ServerConfig.ReplayStoreOutage.LOCAL_ONLY);
        assertThat(parse("  replayStore: redis-sentinel://s1:26379,s2:26379/0#certknock\n").knock().sharedReplayStore())
                .isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "not a Redis URI|replayStore: http://:hunter22hunter@x:6379|11|'local' or a Redis URI",
        "a bare host|replayStore: redis.example.test:6379|11|'local' or a Redis URI",
        "Sentinel without master|replayStore: redis-sentinel://:hunter22hunter@s1:26379/0|11|names its master after '#'",
        "deadline too short|replayStoreTimeout: 1ms|11|knock.replayStoreTimeout must be at least 5 ms",
        "deadline too long|replayStoreTimeout: 10s|11|is over 5 s",
        "bad outage policy|replayStoreOutage: ignore|11|(one of: refuse, local-only)",
    })
    void mistakesAreReportedAtTheirLineWithoutThePassword(String name, String line, int lineNo, String message) {
        assertThatThrownBy(() -> parse("  " + line + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml:" + lineNo + ":")
                .hasMessageContaining(message)
                .hasMessageNotContaining("hunter22hunter");
    }

    @Test
    void changingTheStoreNeedsARestart() throws Exception {
        ServerConfig before = parse("");
        ServerConfig after = parse("  replayStore: redis://127.0.0.1:6379\n  replayStoreOutage: local-only\n");
        assertThat(RestartOnly.changed(before, after)).contains("knock.replayStore", "knock.replayStoreOutage");
    }
}
