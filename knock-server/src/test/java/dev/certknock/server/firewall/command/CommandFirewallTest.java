package dev.certknock.server.firewall.command;

import dev.certknock.server.grant.TestHolders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.grant.GrantDecision;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command backend with real processes: a small shell script in a temporary directory logs its argv. */
class CommandFirewallTest {

    private static final X500Principal ISSUER = new X500Principal("CN=test CA");
    private static final X500Principal OTHER_ISSUER = new X500Principal("CN=other CA");
    private static final X500Principal ALICE = new X500Principal("CN=alice");
    private static final X500Principal BOB = new X500Principal("CN=bob");
    private static final Duration WAIT = Duration.ofSeconds(8);

    @TempDir
    Path dir;
    private Path log;
    private Path state;
    private Path script;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final KnockEventListener listener = new KnockEventListener() {
        @Override
        public void grantOpened(GrantDecision d) {
            events.add("opened " + d.subject().getName());
        }

        @Override
        public void grantClosed(GrantDecision d, String why) {
            events.add("closed " + d.subject().getName() + " " + why);
        }
    };
    private final List<CommandFirewall> started = new ArrayList<>();

    @BeforeEach
    void writeScript() throws IOException {
        log = dir.resolve("calls.log");
        state = dir.resolve("state/open-grants.json");
        script = dir.resolve("fw.sh");
        // one line per call: the arguments separated by '|'; FAIL_<verb> makes that verb fail once per file
        Files.writeString(script, """
                #!/bin/sh
                log="$1"; shift
                verb="$1"
                if [ -e "$log.fail-$verb" ]; then rm "$log.fail-$verb"; echo "refused by test" >&2; exit 7; fi
                if [ -e "$log.slow-$verb" ]; then sleep 30; fi
                printf '%s|' "$@" >> "$log"
                echo >> "$log"
                """);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterEach
    void stop() {
        started.forEach(CommandFirewall::close);
    }

    private CommandSettings settings() {
        return CommandSettings.of(
                CommandTemplate.parse("open", List.of(script.toString(), log.toString(), "open", "{address}",
                        "{family}", "{protocol}", "{ports}", "{firstPort}", "{lastPort}", "{seconds}", "{serial}")),
                CommandTemplate.parse("close", List.of(script.toString(), log.toString(), "close", "{address}",
                        "{protocol}", "{ports}", "{serial}")),
                state).withCommandTimeout(Duration.ofSeconds(5)).withRetryDelay(Duration.ofMillis(300));
    }

    private CommandFirewall start(CommandSettings s, Clock clock) throws FirewallException {
        CommandFirewall fw = CommandFirewall.start(s, clock, listener);
        started.add(fw);
        return fw;
    }

    private CommandFirewall start(CommandSettings s) throws FirewallException {
        return start(s, Clock.systemUTC());
    }

    private static GrantDecision grant(String address, Duration d, X500Principal subject, X500Principal issuer,
            long serial, String... grants) throws IOException {
        return TestHolders.decision(InetAddress.getByName(address), Arrays.stream(grants).map(PortGrant::parse).toList(),
                d, Instant.now(), subject, issuer, BigInteger.valueOf(serial));
    }

    private List<String> calls() throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private List<String> calls(String verb) throws IOException {
        return calls().stream().filter(l -> l.startsWith(verb + "|")).toList();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("waited %s for: %s", WAIT, what).isNegative();
            Thread.sleep(20);
        }
    }

    private BooleanSupplier closes(int n) {
        return () -> {
            try {
                return calls("close").size() >= n;
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        };
    }

    @Test
    void openRunsOneCommandPerElementWithSubstitutedArguments() throws Exception {
        CommandFirewall fw = start(settings());
        GrantDecision d = grant("192.0.2.10", Duration.ofSeconds(60), ALICE, ISSUER, 0xABC, "tcp/22", "udp/8000-8100");
        fw.open(d);
        assertThat(calls()).containsExactly(
                "open|192.0.2.10|ipv4|tcp|22|22|22|60|abc|",
                "open|192.0.2.10|ipv4|udp|8000-8100|8000|8100|60|abc|");
        assertThat(fw.active(Instant.now())).containsExactly(d);
        assertThat(fw.elements()).containsExactly("192.0.2.10 tcp/22", "192.0.2.10 udp/8000-8100");
        assertThat(events).containsExactly("opened CN=alice");
    }

    @Test
    void ipv6AddressIsPassedAsALiteral() throws Exception {
        CommandFirewall fw = start(settings());
        fw.open(grant("2001:db8::5", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/443"));
        assertThat(calls()).containsExactly("open|2001:db8:0:0:0:0:0:5|ipv6|tcp|443|443|443|60|1|");
    }

    @Test
    void templateElementsArePassedLiterallyAndNothingIsExecuted() throws Exception {
        Path pwned = dir.resolve("pwned");
        String nasty = "a b;touch " + pwned + ";$(touch " + pwned + ")`touch " + pwned + "`|&>' \"*";
        CommandSettings s = settings();
        s = new CommandSettings(CommandTemplate.parse("open", List.of(script.toString(), log.toString(), "open",
                nasty, "x={address}*{ports}")), s.close(), s.commandTimeout(), s.stateFile(), s.maxEntries(),
                s.retryDelay(), false, false);
        CommandFirewall fw = start(s);
        fw.open(grant("192.0.2.11", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22"));
        assertThat(calls()).containsExactly("open|" + nasty + "|x=192.0.2.11*22|");
        assertThat(pwned).doesNotExist();
    }

    @Test
    void reopenRefreshesWithoutRunningOpenTwiceAndClosesOnceAtTheNewExpiry() throws Exception {
        CommandFirewall fw = start(settings());
        fw.open(grant("192.0.2.12", Duration.ofSeconds(1), ALICE, ISSUER, 1, "tcp/22"));
        Thread.sleep(500);
        GrantDecision again = grant("192.0.2.12", Duration.ofSeconds(3), ALICE, ISSUER, 1, "tcp/22");
        fw.open(again);
        assertThat(calls("open")).hasSize(1);
        Thread.sleep(1000);
        // the first expiry (1 s after the first knock) has passed: the refresh moved it
        assertThat(calls("close")).isEmpty();
        assertThat(fw.active(Instant.now())).containsExactly(again);
        await("the close at the refreshed expiry", closes(1));
        Thread.sleep(500);
        assertThat(calls("close")).containsExactly("close|192.0.2.12|tcp|22|1|");
        assertThat(fw.active(Instant.now())).isEmpty();
        assertThat(fw.elements()).isEmpty();
        assertThat(events).containsExactly("opened CN=alice", "opened CN=alice", "closed CN=alice expired");
    }

    @Test
    void rerunOpenOnRefreshRunsOpenAgainButStillClosesOnce() throws Exception {
        CommandFirewall fw = start(settings().withRerunOpenOnRefresh(true));
        fw.open(grant("192.0.2.13", Duration.ofMillis(800), ALICE, ISSUER, 1, "tcp/22"));
        fw.open(grant("192.0.2.13", Duration.ofMillis(900), ALICE, ISSUER, 1, "tcp/22"));
        assertThat(calls("open")).hasSize(2);
        await("the close", closes(1));
        Thread.sleep(600);
        assertThat(calls("close")).hasSize(1);
    }

    @Test
    void quartzClosesEachElementAtExpiry() throws Exception {
        CommandFirewall fw = start(settings());
        Instant opened = Instant.now();
        fw.open(grant("192.0.2.14", Duration.ofSeconds(1), ALICE, ISSUER, 0x10, "tcp/22", "tcp/80"));
        await("both closes", closes(2));
        Duration took = Duration.between(opened, Instant.now());
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(900)).isLessThan(Duration.ofSeconds(4));
        assertThat(calls("close")).containsExactlyInAnyOrder("close|192.0.2.14|tcp|22|10|",
                "close|192.0.2.14|tcp|80|10|");
        await("the closed event", () -> events.contains("closed CN=alice expired"));
        assertThat(events).containsOnlyOnce("closed CN=alice expired");
        assertThat(Files.readString(state)).doesNotContain("192.0.2.14");
    }

    @Test
    void failingOpenCommandReportsExitCodeAndStderrAndIsUndone() throws Exception {
        CommandFirewall fw = start(settings());
        Files.createFile(Path.of(log + ".fail-open"));
        GrantDecision d = grant("192.0.2.15", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22");
        assertThatThrownBy(() -> fw.open(d)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("192.0.2.15 tcp/22").hasMessageContaining("exited with 7")
                .hasMessageContaining("refused by test");
        assertThat(calls()).containsExactly("close|192.0.2.15|tcp|22|1|");
        assertThat(fw.active(Instant.now())).isEmpty();
        assertThat(fw.elements()).isEmpty();
        assertThat(events).isEmpty();
        fw.open(d);
        assertThat(calls("open")).hasSize(1);
    }

    @Test
    void commandThatHangsIsKilledAfterTheTimeout() throws Exception {
        CommandFirewall fw = start(settings().withCommandTimeout(Duration.ofMillis(400)));
        Files.createFile(Path.of(log + ".slow-open"));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> fw.open(grant("192.0.2.16", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("did not finish within 400 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(calls()).containsExactly("close|192.0.2.16|tcp|22|1|");
    }

    @Test
    void failedCloseIsRetriedUntilItSucceeds() throws Exception {
        CommandFirewall fw = start(settings().withRetryDelay(Duration.ofMillis(1500)));
        fw.open(grant("192.0.2.17", Duration.ofMillis(500), ALICE, ISSUER, 1, "tcp/22"));
        Files.createFile(Path.of(log + ".fail-close"));
        Thread.sleep(700);
        assertThat(calls("close")).isEmpty();
        assertThat(fw.elements()).containsExactly("192.0.2.17 tcp/22");
        assertThat(Files.readString(state)).contains("192.0.2.17");
        await("the retried close", closes(1));
        await("the element to be forgotten", () -> fw.elements().isEmpty());
        assertThat(Files.readString(state)).doesNotContain("192.0.2.17");
    }

    @Test
    void closeCertificateClosesOnlyThatCertificatesGrantsNow() throws Exception {
        CommandFirewall fw = start(settings());
        GrantDecision alice1 = grant("192.0.2.20", Duration.ofSeconds(60), ALICE, ISSUER, 5, "tcp/22", "tcp/80");
        GrantDecision alice2 = grant("192.0.2.21", Duration.ofSeconds(60), ALICE, ISSUER, 5, "tcp/22");
        GrantDecision bob = grant("192.0.2.22", Duration.ofSeconds(60), BOB, ISSUER, 6, "tcp/22");
        GrantDecision sameSerialOtherCa = grant("192.0.2.23", Duration.ofSeconds(60), BOB, OTHER_ISSUER, 5, "tcp/22");
        for (GrantDecision d : List.of(alice1, alice2, bob, sameSerialOtherCa)) {
            fw.open(d);
        }
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isEqualTo(2);
        assertThat(calls("close")).containsExactly("close|192.0.2.20|tcp|22|5|", "close|192.0.2.20|tcp|80|5|",
                "close|192.0.2.21|tcp|22|5|");
        assertThat(fw.active(Instant.now())).containsExactlyInAnyOrder(bob, sameSerialOtherCa);
        assertThat(events).filteredOn(e -> e.startsWith("closed")).containsExactly("closed CN=alice revoked",
                "closed CN=alice revoked");
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isZero();
        String json = Files.readString(state);
        assertThat(json).doesNotContain("192.0.2.20").doesNotContain("192.0.2.21").contains("192.0.2.22");
    }

    @Test
    void closeCertificateReportsAFailedClose() throws Exception {
        CommandFirewall fw = start(settings().withRetryDelay(Duration.ofSeconds(30)));
        fw.open(grant("192.0.2.24", Duration.ofSeconds(60), ALICE, ISSUER, 5, "tcp/22"));
        Files.createFile(Path.of(log + ".fail-close"));
        assertThatThrownBy(() -> fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5)))))
                .isInstanceOf(FirewallException.class).hasMessageContaining("revoked certificate serial 5")
                .hasMessageContaining("exited with 7");
        assertThat(fw.elements()).containsExactly("192.0.2.24 tcp/22");
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isEqualTo(1);
        assertThat(fw.elements()).isEmpty();
    }

    @Test
    void restartClosesGrantsThatExpiredMeanwhileAndReschedulesTheOthers() throws Exception {
        CommandFirewall first = start(settings());
        GrantDecision shortOne = grant("192.0.2.30", Duration.ofSeconds(30), ALICE, ISSUER, 7, "tcp/22");
        GrantDecision longOne = grant("192.0.2.31", Duration.ofSeconds(600), BOB, ISSUER, 8, "tcp/22", "udp/53");
        first.open(shortOne);
        first.open(longOne);
        first.close();
        assertThat(calls("close")).isEmpty();

        // the server comes back 2 minutes later: the 30 s grant expired while it was down
        Clock later = Clock.fixed(Instant.now().plusSeconds(120), ZoneOffset.UTC);
        CommandFirewall second = start(settings(), later);
        assertThat(calls("close")).containsExactly("close|192.0.2.30|tcp|22|7|");
        assertThat(second.active(later.instant())).containsExactly(longOne);
        assertThat(second.elements()).containsExactly("192.0.2.31 tcp/22", "192.0.2.31 udp/53");
        // the survivor is still known: revocation reaches it after the restart
        assertThat(second.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(8))))).isEqualTo(1);
        assertThat(calls("close")).hasSize(3);
        second.close();

        CommandFirewall third = start(settings());
        assertThat(third.elements()).isEmpty();
        assertThat(calls("close")).hasSize(3);
    }

    @Test
    void handWrittenStateWithAnExpiredGrantIsClosedAtStart() throws Exception {
        Files.createDirectories(state.getParent());
        Files.writeString(state, """
                {"version": 1, "open": [
                  {"address": "203.0.113.9", "grant": "tcp/8000-8010", "grants": ["tcp/8000-8010"],
                   "openedAt": "2020-01-01T00:00:00Z", "durationMillis": 30000,
                   "subject": "CN=carol", "issuer": "CN=test CA", "serial": "1f"}]}
                """);
        CommandFirewall fw = start(settings());
        assertThat(calls()).containsExactly("close|203.0.113.9|tcp|8000-8010|1f|");
        assertThat(fw.elements()).isEmpty();
        assertThat(events).containsExactly("closed CN=carol expired");
        assertThat(Files.readString(state)).doesNotContain("203.0.113.9");
    }

    @Test
    void unreadableStateStopsTheStart() throws Exception {
        Files.createDirectories(state.getParent());
        Files.writeString(state, "{\"version\": 1, \"open\": [{\"address\": \"evil.example\"");
        assertThatThrownBy(() -> start(settings())).isInstanceOf(FirewallException.class)
                .hasMessageContaining(state.toString()).hasMessageContaining("fix or remove it");
        Files.writeString(state, """
                {"version": 1, "open": [{"address": "evil.example", "grant": "tcp/22", "grants": ["tcp/22"],
                 "openedAt": "2020-01-01T00:00:00Z", "durationMillis": 1, "subject": "CN=x", "issuer": "CN=y",
                 "serial": "1"}]}""");
        assertThatThrownBy(() -> start(settings())).isInstanceOf(FirewallException.class)
                .hasMessageContaining("not an IP address literal");
        assertThat(calls()).isEmpty();
    }

    @Test
    void stateFileIsOwnerOnlyAndLeavesNoTemporaryFile() throws Exception {
        CommandFirewall fw = start(settings());
        fw.open(grant("192.0.2.40", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rw-------");
        try (var files = Files.list(state.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("open-grants.json");
        }
    }

    @Test
    void fullTableIsRefusedBeforeAnythingRuns() throws Exception {
        CommandFirewall fw = start(settings().withMaxEntries(2));
        fw.open(grant("192.0.2.50", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22"));
        assertThatThrownBy(() -> fw.open(grant("192.0.2.51", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22",
                "tcp/80"))).isInstanceOf(FirewallException.class).hasMessageContaining("full (2 entries)");
        assertThat(calls("open")).hasSize(1);
        // a refresh of what is open needs no new entry
        fw.open(grant("192.0.2.50", Duration.ofSeconds(90), ALICE, ISSUER, 1, "tcp/22"));
    }

    @Test
    void invalidValueIsRefusedBeforeAnythingRuns() throws Exception {
        CommandFirewall fw = start(settings());
        GrantDecision negative = TestHolders.decision(InetAddress.getByName("192.0.2.60"),
                List.of(PortGrant.parse("tcp/22")), Duration.ofSeconds(60), Instant.now(), ALICE, ISSUER,
                BigInteger.valueOf(-1));
        assertThatThrownBy(() -> fw.open(negative)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("serial");
        assertThat(calls()).isEmpty();
        assertThat(fw.elements()).isEmpty();
    }

    @Test
    void closeOnStopClosesEverythingAndKeepOnStopClosesNothing() throws Exception {
        CommandFirewall keep = start(settings());
        keep.open(grant("192.0.2.70", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22"));
        keep.close();
        assertThat(calls("close")).isEmpty();
        CommandFirewall flush = start(settings().withCloseOnStop(true));
        assertThat(flush.elements()).containsExactly("192.0.2.70 tcp/22");
        flush.close();
        assertThat(calls("close")).containsExactly("close|192.0.2.70|tcp|22|1|");
        assertThat(events).contains("closed CN=alice stopped");
        assertThatThrownBy(() -> flush.open(grant("192.0.2.71", Duration.ofSeconds(60), ALICE, ISSUER, 1, "tcp/22")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("closed");
    }
}
