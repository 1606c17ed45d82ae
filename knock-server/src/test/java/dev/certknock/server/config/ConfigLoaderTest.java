package dev.certknock.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.certknock.protocol.grant.PortGrant;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {

    private static final String MINIMAL = MinimalConfig.YAML;

    private static ServerConfig parse(String yaml) throws ConfigException {
        return MinimalConfig.parse(yaml);
    }

    @Test
    void theRepositorySampleParses() throws Exception {
        ServerConfig c = ConfigLoader.load(Path.of("../config.yaml"));
        assertThat(c.server().name()).isEqualTo("gw1.demo.test");
        assertThat(c.protect()).containsExactly(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/8080-8081"));
        assertThat(c.server().identities().get(0).bundle().isAbsolute()).isTrue();
        assertThat(c.server().identities().get(0).bundle().toString()).endsWith("certificates/demo/server.p12");
        assertThat(c.crl().sources().get(0).url().getScheme()).isEqualTo("file");
    }

    @Test
    void aMinimalConfigGetsSafeDefaults() throws Exception {
        ServerConfig c = parse(MINIMAL);
        assertThat(c.server().identities().get(0).bundle()).isEqualTo(Path.of("/etc/certknock/server.p12"));
        assertThat(c.knock().timestampWindow()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.knock().declaredAddress()).isEqualTo(ServerConfig.DeclaredAddressPolicy.USE_SOURCE);
        assertThat(c.knock().acceptVersion1()).as("knock v1 can be raced: read only on request").isFalse();
        assertThat(c.knock().replies()).as("clients behind NAT learn their address from replies").isTrue();
        assertThat(c.knock().repliesPerSecond()).isEqualTo(200);
        assertThat(c.crl().staleGrace()).isZero();
        assertThat(c.limits().queueCapacity()).isEqualTo(4096);
        assertThat(c.firewall().backend()).isEqualTo(ServerConfig.FirewallBackend.LOG);
        assertThat(c.trust().intermediates()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "unknown key|knock:\\n  timestampWindo: 30s|10|3|unknown key 'timestampWindo' in knock",
        "wrong type|limits:\\n  workers: many|10|12|limits.workers: wrong type: expected whole number",
        "out of range|limits:\\n  workers: 0|10|12|limits.workers is 0; it must be between 1 and 256",
        "bad duration|knock:\\n  timestampWindow: 30 seconds|10|20|'30 seconds' is not a valid duration",
        "window too long|knock:\\n  timestampWindow: 1h|10|20|over 10 minutes",
        "bad enum|knock:\\n  declaredAddress: trust-me|10|20|(one of: use-source, prefer-declared, require-declared, must-equal-source)",
        "unknown top-level key|protect2: x\\n|9|11|unknown key 'protect2'",
        "no replies at all|knock:\\n  repliesPerSecond: 0|10|21|knock.repliesPerSecond is 0; it must be between 1 and 100000",
        "v1 as a word|knock:\\n  acceptVersion1: sometimes|10|19|knock.acceptVersion1",
        "bad CRL scheme|crl:\\n  sources:\\n    - url: ftp://x/crl|11|12|CRL url must be http:, https: or file:",
    })
    void mistakesAreReportedWithFileLineAndColumn(String name, String extra, int line, int column, String message) {
        String yaml = MINIMAL + extra.replace("\\n", "\n") + "\n";
        assertThatThrownBy(() -> parse(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml:" + line + ":")
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((ConfigException) e).line()).isEqualTo(line));
    }

    @Test
    void metricsAreOffUnlessConfiguredAndLoopbackByDefault() throws Exception {
        ServerConfig none = parse(MINIMAL);
        assertThat(none.metrics()).as("no section, no endpoint").isNull();
        ServerConfig on = parse(MINIMAL + "metrics:\n  port: 9464\n");
        assertThat(on.metrics().address()).isEqualTo("127.0.0.1");
        assertThat(on.metrics().port()).isEqualTo(9464);
        assertThat(on.metrics().loopback()).isTrue();
        ServerConfig v6 = parse(MINIMAL + "metrics:\n  address: \"::1\"\n  port: 0\n");
        assertThat(v6.metrics().loopback()).isTrue();
        ServerConfig wide = parse(MINIMAL + "metrics:\n  address: 192.0.2.10\n  port: 9464\n  allowNonLoopback: true\n");
        assertThat(wide.metrics().loopback()).isFalse();
    }

    @Test
    void theStatusSocketDefaultsBesideTheReplayJournal() throws Exception {
        assertThat(parse(MINIMAL).statusSocket()).isEqualTo(Path.of("/var/lib/certknock/status.sock"));
        assertThat(parse(MINIMAL + "knock:\n  replayJournal: state/replay.journal\n").statusSocket())
                .isEqualTo(Path.of("/etc/certknock/state/status.sock"));
        assertThat(parse(MINIMAL + "status:\n  socket: /run/certknock/status.sock\n").statusSocket())
                .isEqualTo(Path.of("/run/certknock/status.sock"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "metrics without a port|metrics:\\n  address: 127.0.0.1|10|3|metrics.port is required",
        "metrics port too high|metrics:\\n  port: 70000|10|9|metrics.port is 70000; it must be between 0 and 65535",
        "metrics port as a word|metrics:\\n  port: http|10|9|metrics.port: wrong type: expected whole number",
        "metrics on a host name|metrics:\\n  address: localhost\\n  port: 9464|10|12|metrics.address 'localhost' is not an IPv4 or IPv6 address literal",
        "metrics on a hex-letter name|metrics:\\n  address: cafe.be\\n  port: 9464|10|12|is not an IPv4 or IPv6 address literal",
        "metrics beyond loopback|metrics:\\n  address: 0.0.0.0\\n  port: 9464|10|12|metrics.allowNonLoopback: true",
        "metrics unknown key|metrics:\\n  port: 9464\\n  path: /m|11|9|unknown key 'path' in metrics",
        "status socket too long|status:\\n  socket: /run/certknock/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock|10|11|longer than 107 bytes",
        "status unknown key|status:\\n  path: /run/x.sock|10|9|unknown key 'path' in status",
    })
    void metricsAndStatusMistakesAreReportedWithFileLineAndColumn(String name, String extra, int line, int column,
            String message) {
        String yaml = MINIMAL + extra.replace("\\n", "\n") + "\n";
        assertThatThrownBy(() -> parse(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml:" + line + ":")
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((ConfigException) e).line()).isEqualTo(line))
                .satisfies(e -> assertThat(((ConfigException) e).column()).isEqualTo(column));
    }

    @Test
    void aBadPortGrantNamesItsLine() {
        String yaml = MINIMAL.replace("protect: [tcp/22]", "protect:\n  - tcp/22\n  - tcp/0");
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml:10:")
                .hasMessageContaining("port 0 is outside 1-65535");
    }

    @Test
    void missingRequiredSectionsAndDuplicateKeysAreRefused() {
        assertThatThrownBy(() -> parse("server:\n  name: x\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("missing required key");
        assertThatThrownBy(() -> parse(MINIMAL + "protect: [tcp/23]\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("protect");
        assertThatThrownBy(() -> parse(MINIMAL.replace("passwordEnv: PW", "passwordEnv: PW\n      passwordFile: pw.txt")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("exactly one of passwordFile or passwordEnv");
        assertThatThrownBy(() -> parse("")).isInstanceOf(ConfigException.class).hasMessageContaining("empty");
    }

    @Test
    void aPointerIsLocatedForChecksAfterParsing() throws Exception {
        Path file = java.nio.file.Files.createTempFile("cfg", ".yaml");
        try {
            java.nio.file.Files.writeString(file, MINIMAL);
            ConfigException e = ConfigLoader.at(file, "/server/identities/0/bundle", "cannot open the bundle", null);
            assertThat(e.line()).isEqualTo(4);
            assertThat(e.column()).isEqualTo(15);
            assertThat(e.getMessage()).endsWith(":4:15: cannot open the bundle");
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    /** Issue 10: {@code protect: [~]} said "test.yaml:1:1: null"; an empty list entry is refused where it is. */
    @Test
    void anEmptyListEntryIsRefusedAtItsLine() {
        emptyEntry("protect: [tcp/22]", "protect: [~]", 8, "protect[0]: an empty entry (~ or null) is not allowed here");
        emptyEntry("protect: [tcp/22]", "protect:\n  - tcp/22\n  - ~", 10, "protect[1]: an empty entry");
        emptyEntry("anchors: [ca.pem]", "anchors: [ca.pem, null]", 7, "trust.anchors[1]: an empty entry");
        emptyEntry("identities:\n    - bundle: server.p12\n      passwordEnv: PW", "identities: [~]", 3,
                "server.identities[0]: an empty entry");
    }

    private static void emptyEntry(String from, String to, int line, String message) {
        String yaml = MINIMAL.replace(from, to);
        assertThat(yaml).as("the test replaced %s", from).isNotEqualTo(MINIMAL);
        assertThatThrownBy(() -> parse(yaml)).as(to).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml:" + line + ":")
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((ConfigException) e).line()).isEqualTo(line))
                .satisfies(e -> assertThat(e.getMessage()).doesNotEndWith("null"));
    }

    /** A required section written with no value ({@code server: ~}) names the key at its line, not "server" at 1:1. */
    @Test
    void aRequiredKeyWithNoValueIsNamedAtItsLine() {
        String yaml = "trust:\n  anchors: [ca.pem]\nprotect: [tcp/22]\nserver: ~\n";
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml:4:")
                .hasMessageContaining("'server' has no value (empty, ~ or null): give it one");
    }
    /** Issue 11: every problem at once, sorted by line, each at its own line and column with its key. */
    @Test
    void everyProblemIsReportedAtOnceSortedByLine() {
        String yaml = """
                server:
                  name: gw1
                  identities:
                    - bundle: server.p12
                      passwordEnv: PW
                      colour: blue
                trust:
                  anchors: [ca.pem]
                knock:
                  timestampWindow: 30 seconds
                  replayCapacity: 5
                protect: [tcp/22, tcp/0]
                limits:
                  workers: many
                  queueCapacity: 0
                crl:
                  sources:
                    - url: ftp://x/crl
                    - url: http://ok.example/crl
                    - ~
                unknownSection: 1
                """;
        ConfigException e = catchThrowableOfType(() -> parse(yaml), ConfigException.class);
        assertThat(e.problems()).extracting(ConfigException.Problem::line)
                .containsExactly(6, 10, 11, 12, 14, 15, 18, 20, 21);
        assertThat(e.problems()).extracting(ConfigException.Problem::message).satisfiesExactly(
                m -> assertThat(m).contains("unknown key 'colour' in server.identities[0]"),
                m -> assertThat(m).contains("knock.timestampWindow: '30 seconds' is not a valid duration"),
                m -> assertThat(m).contains("knock.replayCapacity is 5; it must be between 1000 and 50000000"),
                m -> assertThat(m).contains("port 0 is outside 1-65535"),
                m -> assertThat(m).contains("limits.workers: wrong type: expected whole number"),
                m -> assertThat(m).contains("limits.queueCapacity is 0"),
                m -> assertThat(m).contains("CRL url must be http:, https: or file:"),
                m -> assertThat(m).contains("crl.sources[2]: an empty entry"),
                m -> assertThat(m).contains("unknown key 'unknownSection' in the top level"));
        assertThat(e.line()).as("the first problem's").isEqualTo(6);
        assertThat(e.getMessage().lines()).hasSize(9).allSatisfy(l -> assertThat(l).matches("test\\.yaml:\\d+:\\d+: .*"));
        assertThat(e.problems().get(1).column()).isEqualTo(20);
    }

    @Test
    void aMissingRequiredKeyAndABadValueElsewhereAreBothReported() {
        String yaml = MINIMAL.replace("  name: gw1\n", "") + "limits:\n  workers: 0\n";
        ConfigException e = catchThrowableOfType(() -> parse(yaml), ConfigException.class);
        assertThat(e.problems()).extracting(ConfigException.Problem::message).anySatisfy(
                m -> assertThat(m).contains("missing required key 'name' in server"))
                .anySatisfy(m -> assertThat(m).contains("limits.workers is 0"));
    }

    @Test
    void aSyntaxErrorStopsTheCheckAndSaysSo() {
        String yaml = MINIMAL + "limits:\n  workers: 0\nknock: [unclosed\n";
        ConfigException e = catchThrowableOfType(() -> parse(yaml), ConfigException.class);
        assertThat(e.problems()).hasSize(1);
        assertThat(e.getMessage()).contains("not valid YAML").contains("checking stops at a YAML syntax error");
    }

    @Test
    void aCheckAcrossSectionsIsReportedWhenEachSectionIsRight() {
        String yaml = MINIMAL + "firewall:\n  backend: nftables\n";
        ConfigException e = catchThrowableOfType(() -> parse(yaml), ConfigException.class);
        assertThat(e.problems()).singleElement().satisfies(p -> assertThat(p.message()).contains("use capture.mode pcap"));
    }
}
