package dev.certknock.server.firewall.command;

import dev.certknock.testing.wait.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.GrantOutcome;
import dev.certknock.server.firewall.HolderTags;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.GrantElement;
import dev.certknock.server.grant.Holder;
import dev.certknock.server.grant.TestHolders;
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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code command} backend as the server runs it: the grant ledger over a {@link CommandWriter} with the real
 * {@link dev.certknock.server.process.ProcessRunner}, running a small shell script in a temporary directory that
 * logs each call (its arguments and the time it ran, to the nanosecond) to {@code calls.log}.
 */
class CommandWriterTest {

    private static final X500Principal ROOT = new X500Principal("CN=root CA");
    /** The CA that issues the leaves; for the holders under an intermediate it is that intermediate. */
    private static final X500Principal ISSUER = new X500Principal("CN=test CA");
    private static final X500Principal OTHER_ISSUER = new X500Principal("CN=other CA");
    private static final X500Principal ALICE = new X500Principal("CN=alice");
    private static final X500Principal BOB = new X500Principal("CN=bob");
    private static final X500Principal CAROL = new X500Principal("CN=carol");
    private static final X500Principal DAVE = new X500Principal("CN=dave");
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** How late after its expiry a close may run: the ledger's timer wakes at the expiry, then a shell starts. */
    private static final Duration LATE = Duration.ofSeconds(1);

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
        public void grantClosed(GrantDecision d, CloseReason why) {
            events.add("closed " + d.subject().getName() + " " + why.label());
        }
    };
    private final List<GrantLedger> started = new ArrayList<>();

    /** One run of the script: its arguments joined by '|' (the verb first), and when it ran. */
    private record Call(String text, Instant at) {
    }

    @BeforeEach
    void writeScript() throws IOException {
        log = dir.resolve("calls.log");
        state = dir.resolve("state/open-grants.json");
        script = dir.resolve("fw.sh");
        Files.writeString(script, """
                #!/bin/sh
                # fw.sh LOG VERB ADDRESS PROTOCOL PORTS [...]: appends "VERB|ADDRESS|PROTOCOL|PORTS|...|@<epoch ns>".
                # LOG.fail-VERB or LOG.fail-VERB-PORTS: fail once (exit 7), logged as "failed-VERB|...".
                # LOG.deny-VERB: fail every time. LOG.slow-VERB: hang once in a child sleep (its pid in LOG.sleeper).
                # LOG.snap naming a file: copy that file to LOG.snap-VERB-PORTS before anything else.
                log="$1"; shift
                verb="$1"
                key="$verb-$4"
                line="$(printf '%s|' "$@")"
                if [ -e "$log.snap" ]; then cp "$(cat "$log.snap")" "$log.snap-$key"; fi
                for f in "$log.fail-$verb" "$log.fail-$key" "$log.deny-$verb"; do
                  if [ -e "$f" ]; then
                    case "$f" in *.deny-*) ;; *) rm "$f" ;; esac
                    printf 'failed-%s@%s\\n' "$line" "$(date +%s%N)" >> "$log"
                    echo "refused by test" >&2
                    exit 7
                  fi
                done
                if [ -e "$log.slow-$verb" ]; then
                  rm "$log.slow-$verb"
                  sleep 30 & echo $! > "$log.sleeper"; wait $!
                fi
                printf '%s@%s\\n' "$line" "$(date +%s%N)" >> "$log"
                """);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterEach
    void stop() {
        started.forEach(GrantLedger::close);
    }

    private CommandSettings settings() {
        return CommandSettings.of(
                CommandTemplate.parse("open", List.of(script.toString(), log.toString(), "open", "{address}",
                        "{protocol}", "{ports}", "{family}", "{firstPort}", "{lastPort}", "{seconds}", "{serial}")),
                CommandTemplate.parse("close", List.of(script.toString(), log.toString(), "close", "{address}",
                        "{protocol}", "{ports}", "{serial}")),
                state).withCommandTimeout(Duration.ofSeconds(5)).withRetryDelay(Duration.ofMillis(300));
    }

    private GrantLedger start(CommandSettings s, GrantLedger.Settings limits, Clock clock) throws FirewallException {
        GrantLedger ledger = new GrantLedger(new CommandWriter(s, clock), limits, clock, listener);
        started.add(ledger);
        return ledger.start();
    }

    private GrantLedger start(CommandSettings s, GrantLedger.Settings limits) throws FirewallException {
        return start(s, limits, Clock.systemUTC());
    }

    private GrantLedger start(CommandSettings s) throws FirewallException {
        return start(s, GrantLedger.Settings.defaults());
    }

    /**
     * The ledger's writer. The ledger calls it under its lock only: tests read {@code elements()} after a call
     * that took that lock (start, open, revoke, active, elementCount) while no expiry is due.
     */
    private static CommandWriter writer(GrantLedger ledger) {
        return (CommandWriter) ledger.writer();
    }

    private static CertRef ref(X500Principal issuer, long serial) {
        return TestHolders.ref(issuer, BigInteger.valueOf(serial));
    }

    /** A leaf issued directly by the anchor {@code issuer}. */
    private static Holder leaf(X500Principal subject, X500Principal issuer, long serial) {
        return TestHolders.holder(subject, issuer, BigInteger.valueOf(serial));
    }

    /** A leaf issued by {@link #ISSUER}, itself an intermediate with this serial under {@link #ROOT}. */
    private static Holder underIntermediate(X500Principal subject, long serial, long intermediateSerial) {
        return new Holder(subject, ISSUER, List.of(ref(ISSUER, serial), ref(ROOT, intermediateSerial)));
    }

    private static GrantDecision grant(String address, Duration d, Holder holder, String... grants)
            throws IOException {
        return new GrantDecision(InetAddress.getByName(address), Arrays.stream(grants).map(PortGrant::parse).toList(),
                d, Instant.now(), holder);
    }

    private static GrantElement element(String address, String grant) throws IOException {
        return new GrantElement(InetAddress.getByName(address), PortGrant.parse(grant));
    }

    private List<Call> timedCalls() throws IOException {
        if (!Files.exists(log)) {
            return List.of();
        }
        List<Call> out = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            int at = line.lastIndexOf('@');
            long nanos = Long.parseLong(line.substring(at + 1));
            out.add(new Call(line.substring(0, at), Instant.ofEpochSecond(0, nanos)));
        }
        return out;
    }

    private List<Call> timedCalls(String verb) throws IOException {
        return timedCalls().stream().filter(c -> c.text().startsWith(verb + "|")).toList();
    }

    private List<String> calls() throws IOException {
        return timedCalls().stream().map(Call::text).toList();
    }

    private List<String> calls(String verb) throws IOException {
        return timedCalls(verb).stream().map(Call::text).toList();
    }

    private Map<GrantElement, CommandState.Recorded> recorded() throws IOException {
        return new CommandState(state).load();
    }

    private void flag(String name) throws IOException {
        Files.createFile(Path.of(log + "." + name));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, WAIT, Duration.ofMillis(20), condition);
    }

    private BooleanSupplier count(String verb, int n) {
        return () -> {
            try {
                return timedCalls(verb).size() >= n;
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        };
    }

    private BooleanSupplier closes(int n) {
        return count("close", n);
    }

    private static void sleepUntil(Instant t) throws InterruptedException {
        long ms = Duration.between(Instant.now(), t).toMillis();
        if (ms > 0) {
            Thread.sleep(ms);
        }
    }

    /**
     * Whether the process runs: not gone and no zombie. (A killed child of the script is re-parented to the init
     * process, which may reap it late; {@link ProcessHandle#isAlive()} counts a zombie as alive.)
     */
    private static boolean running(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        } catch (IOException e) {
            return false;
        }
        char st = stat.charAt(stat.lastIndexOf(')') + 2);
        return st != 'Z' && st != 'X';
    }

    /** The close ran at the expiry (never before) and within {@link #LATE} after it. */
    private static void assertOnTime(Call close, Instant expiry) {
        assertThat(close.at()).as("%s ran at %s, expiry %s", close.text(), close.at(), expiry)
                .isAfterOrEqualTo(expiry).isBefore(expiry.plus(LATE));
    }

    // ---------------------------------------------------------------------------------------------- opening

    @Test
    void openRunsOneCommandPerElementWithSubstitutedArguments() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision d = grant("192.0.2.10", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 0xABC), "tcp/22",
                "udp/8000-8100");
        assertThat(fw.open(d)).isEqualTo(GrantOutcome.OPENED);
        assertThat(calls()).containsExactly(
                "open|192.0.2.10|tcp|22|ipv4|22|22|60|abc|",
                "open|192.0.2.10|udp|8000-8100|ipv4|8000|8100|60|abc|");
        assertThat(fw.active(Instant.now())).containsExactly(d);
        assertThat(fw.elementCount()).isEqualTo(2);
        assertThat(writer(fw).elements()).containsExactly("192.0.2.10 tcp/22", "192.0.2.10 udp/8000-8100");
        assertThat(events).containsExactly("opened CN=alice");
        assertThat(recorded()).containsOnlyKeys(element("192.0.2.10", "tcp/22"), element("192.0.2.10", "udp/8000-8100"));
    }

    @Test
    void ipv6AddressIsPassedAsALiteral() throws Exception {
        GrantLedger fw = start(settings());
        fw.open(grant("2001:db8::5", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/443"));
        assertThat(calls()).containsExactly("open|2001:db8:0:0:0:0:0:5|tcp|443|ipv6|443|443|60|1|");
    }

    @Test
    void secondsAreTheGrantsDurationRoundedUp() throws Exception {
        GrantLedger fw = start(settings());
        fw.open(grant("192.0.2.9", Duration.ofMillis(90_500), leaf(ALICE, ISSUER, 1), "tcp/22"));
        assertThat(calls()).containsExactly("open|192.0.2.9|tcp|22|ipv4|22|22|91|1|");
    }

    @Test
    void templateElementsArePassedLiterallyAndNothingIsExecuted() throws Exception {
        Path pwned = dir.resolve("pwned");
        String nasty = "a b;touch " + pwned + ";$(touch " + pwned + ")`touch " + pwned + "`|&>' \"*";
        CommandSettings s = settings();
        s = new CommandSettings(CommandTemplate.parse("open", List.of(script.toString(), log.toString(), "open",
                nasty, "x={address}*{ports}")), s.close(), s.commandTimeout(), s.stateFile(), s.retryDelay(), false);
        GrantLedger fw = start(s);
        fw.open(grant("192.0.2.11", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22"));
        assertThat(calls()).containsExactly("open|" + nasty + "|x=192.0.2.11*22|");
        assertThat(pwned).doesNotExist();
    }

    @Test
    void invalidValueIsRefusedBeforeAnythingRuns() throws Exception {
        GrantLedger fw = start(settings());
        Holder negative = new Holder(ALICE, ISSUER, List.of(new CertRef(TestHolders.keyIdFor(ISSUER),
                BigInteger.valueOf(-1))));
        GrantDecision d = grant("192.0.2.60", Duration.ofSeconds(60), negative, "tcp/22");
        assertThatThrownBy(() -> fw.open(d)).isInstanceOf(FirewallException.class).hasMessageContaining("serial");
        assertThat(calls()).isEmpty();
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(fw.elementCount()).isZero();
        assertThat(recorded()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void limitsRefuseBeforeAnythingRunsAndARefreshNeedsNoNewElement() throws Exception {
        GrantLedger fw = start(settings(), new GrantLedger.Settings(3, 2, false));
        assertThat(fw.open(grant("192.0.2.50", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22", "tcp/80")))
                .isEqualTo(GrantOutcome.OPENED);
        assertThat(fw.open(grant("192.0.2.51", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.CERTIFICATE_LIMIT));
        assertThat(fw.open(grant("192.0.2.52", Duration.ofSeconds(60), leaf(BOB, ISSUER, 2), "tcp/22", "tcp/80")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.TOTAL_LIMIT));
        assertThat(calls("open")).hasSize(2);
        assertThat(fw.open(grant("192.0.2.52", Duration.ofSeconds(60), leaf(BOB, ISSUER, 2), "tcp/22")))
                .isEqualTo(GrantOutcome.OPENED);
        // the ledger is full, but a refresh of what alice holds needs no new element
        assertThat(fw.open(grant("192.0.2.50", Duration.ofSeconds(90), leaf(ALICE, ISSUER, 1), "tcp/22")))
                .isEqualTo(GrantOutcome.OPENED);
        assertThat(calls("open")).hasSize(3);
        assertThat(recorded()).hasSize(3);
    }

    @Test
    void stateFileIsWrittenBeforeEachOpenCommandRuns() throws Exception {
        GrantLedger fw = start(settings());
        Files.writeString(Path.of(log + ".snap"), state.toString());
        Holder bob = underIntermediate(BOB, 6, 100);
        fw.open(grant("192.0.2.40", Duration.ofSeconds(60), bob, "tcp/22", "tcp/80"));
        assertThat(calls("open")).hasSize(2);

        // what a crash while each open command ran would have left on disk
        Map<GrantElement, CommandState.Recorded> duringFirst = new CommandState(Path.of(log + ".snap-open-22")).load();
        Map<GrantElement, CommandState.Recorded> duringSecond = new CommandState(Path.of(log + ".snap-open-80")).load();
        assertThat(duringFirst).containsOnlyKeys(element("192.0.2.40", "tcp/22"));
        assertThat(duringSecond).containsOnlyKeys(element("192.0.2.40", "tcp/22"), element("192.0.2.40", "tcp/80"));
        CommandState.Recorded r = duringFirst.get(element("192.0.2.40", "tcp/22"));
        assertThat(r.serial()).isEqualTo(BigInteger.valueOf(6));
        assertThat(r.comment()).isEqualTo(HolderTags.format(bob));
        assertThat(r.until()).isAfter(Instant.now().plusSeconds(50));
    }

    @Test
    void stateFileIsOwnerOnlyAndLeavesNoTemporaryFile() throws Exception {
        GrantLedger fw = start(settings());
        fw.open(grant("192.0.2.41", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rw-------");
        try (Stream<Path> files = Files.list(state.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("open-grants.json");
        }
    }

    // ------------------------------------------------------------------------------------ refresh and expiry

    @Test
    void repeatedKnockDoesNotRerunOpenAndMovesTheClose() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision first = grant("192.0.2.12", Duration.ofSeconds(1), leaf(ALICE, ISSUER, 1), "tcp/22");
        fw.open(first);
        Thread.sleep(400);
        GrantDecision again = grant("192.0.2.12", Duration.ofSeconds(2), leaf(ALICE, ISSUER, 1), "tcp/22");
        assertThat(fw.open(again)).isEqualTo(GrantOutcome.OPENED);
        assertThat(calls("open")).hasSize(1);
        assertThat(recorded().get(element("192.0.2.12", "tcp/22")).until())
                .isAfterOrEqualTo(again.expiresAt()).isBefore(again.expiresAt().plusMillis(500));

        sleepUntil(first.expiresAt().plusMillis(500));
        // the first expiry has passed: the refresh moved it
        assertThat(calls("close")).isEmpty();
        assertThat(fw.active(Instant.now())).containsExactly(again);

        await("the close at the refreshed expiry", closes(1));
        assertOnTime(timedCalls("close").get(0), again.expiresAt());
        Thread.sleep(300);
        assertThat(calls("close")).containsExactly("close|192.0.2.12|tcp|22|1|");
        assertThat(fw.active(Instant.now())).isEmpty();
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(recorded()).isEmpty();
        assertThat(events).containsExactly("opened CN=alice", "opened CN=alice", "closed CN=alice expired");
    }

    @Test
    void shorterKnockNeverShortensAnOpenElement() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision longOne = grant("192.0.2.13", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22");
        fw.open(longOne);
        CommandState.Recorded before = recorded().get(element("192.0.2.13", "tcp/22"));
        fw.open(grant("192.0.2.13", Duration.ofSeconds(1), leaf(ALICE, ISSUER, 1), "tcp/22"));
        Thread.sleep(1500);
        assertThat(calls()).containsExactly("open|192.0.2.13|tcp|22|ipv4|22|22|60|1|");
        assertThat(recorded().get(element("192.0.2.13", "tcp/22"))).isEqualTo(before);
        assertThat(fw.active(Instant.now())).containsExactly(longOne);
    }

    @Test
    void rerunOpenOnRefreshRunsOpenAgainButStillClosesOnce() throws Exception {
        GrantLedger fw = start(settings().withRerunOpenOnRefresh(true));
        fw.open(grant("192.0.2.13", Duration.ofMillis(800), leaf(ALICE, ISSUER, 1), "tcp/22"));
        GrantDecision again = grant("192.0.2.13", Duration.ofMillis(2100), leaf(ALICE, ISSUER, 1), "tcp/22");
        fw.open(again);
        assertThat(calls("open")).containsExactly("open|192.0.2.13|tcp|22|ipv4|22|22|1|1|",
                "open|192.0.2.13|tcp|22|ipv4|22|22|3|1|");
        await("the close", closes(1));
        assertOnTime(timedCalls("close").get(0), again.expiresAt());
        Thread.sleep(600);
        assertThat(calls("close")).hasSize(1);
    }

    @Test
    void closeRunsAtTheExpiryNotBeforeOncePerElementAndReportsEachDecisionOnce() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision alice = grant("192.0.2.14", Duration.ofMillis(1200), leaf(ALICE, ISSUER, 0x10), "tcp/22",
                "tcp/80");
        GrantDecision bob = grant("192.0.2.15", Duration.ofMillis(1800), leaf(BOB, ISSUER, 0x11), "udp/53");
        fw.open(alice);
        fw.open(bob);
        // nothing but the ledger's own timer closes them: no active() call while waiting
        await("three closes", closes(3));
        List<Call> closes = timedCalls("close");
        assertThat(closes).extracting(Call::text).containsExactlyInAnyOrder("close|192.0.2.14|tcp|22|10|",
                "close|192.0.2.14|tcp|80|10|", "close|192.0.2.15|udp|53|11|");
        for (Call c : closes) {
            assertOnTime(c, c.text().contains("192.0.2.14") ? alice.expiresAt() : bob.expiresAt());
        }
        await("the closed events", () -> events.size() == 4);
        Thread.sleep(300);
        assertThat(events).containsExactly("opened CN=alice", "opened CN=bob", "closed CN=alice expired",
                "closed CN=bob expired");
        assertThat(calls("close")).hasSize(3);
        assertThat(fw.elementCount()).isZero();
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(Files.readString(state)).doesNotContain("192.0.2.14").doesNotContain("192.0.2.15");
    }

    @Test
    void activeClosesWhatHasExpiredByTheTimeItIsGiven() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision d = grant("192.0.2.19", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22");
        fw.open(d);
        assertThat(fw.active(d.expiresAt().minusMillis(1))).containsExactly(d);
        assertThat(calls("close")).isEmpty();
        assertThat(fw.active(d.expiresAt())).isEmpty();
        assertThat(calls("close")).containsExactly("close|192.0.2.19|tcp|22|1|");
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(events).containsExactly("opened CN=alice", "closed CN=alice expired");
    }

    @Test
    void twoCertificatesShareOneElementThatClosesAfterTheLastHold() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision alice = grant("192.0.2.16", Duration.ofMillis(800), leaf(ALICE, ISSUER, 1), "tcp/22");
        GrantDecision bob = grant("192.0.2.16", Duration.ofMillis(1800), leaf(BOB, ISSUER, 2), "tcp/22");
        fw.open(alice);
        fw.open(bob);
        assertThat(calls()).containsExactly("open|192.0.2.16|tcp|22|ipv4|22|22|1|1|");
        await("alice's hold to end", () -> events.contains("closed CN=alice expired"));
        assertThat(calls("close")).isEmpty();
        await("the close", closes(1));
        assertOnTime(timedCalls("close").get(0), bob.expiresAt());
        // the close names the holder that set the expiry
        assertThat(calls("close")).containsExactly("close|192.0.2.16|tcp|22|2|");
        await("bob's close event", () -> events.contains("closed CN=bob expired"));
        assertThat(events).containsExactly("opened CN=alice", "opened CN=bob", "closed CN=alice expired",
                "closed CN=bob expired");
    }

    // ------------------------------------------------------------------------------------------- failures

    @Test
    void failingOpenCommandReportsExitCodeAndStderrAndIsUndone() throws Exception {
        GrantLedger fw = start(settings());
        flag("fail-open");
        GrantDecision d = grant("192.0.2.15", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22");
        assertThatThrownBy(() -> fw.open(d)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("192.0.2.15 tcp/22").hasMessageContaining("exited with 7")
                .hasMessageContaining("refused by test");
        assertThat(calls()).containsExactly("failed-open|192.0.2.15|tcp|22|ipv4|22|22|60|1|", "close|192.0.2.15|tcp|22|1|");
        assertThat(fw.active(Instant.now())).isEmpty();
        assertThat(fw.elementCount()).isZero();
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(recorded()).isEmpty();
        assertThat(events).isEmpty();

        assertThat(fw.open(d)).isEqualTo(GrantOutcome.OPENED);
        assertThat(calls("open")).hasSize(1);
        assertThat(fw.active(Instant.now())).containsExactly(d);
    }

    /**
     * A grant of two elements whose second open command fails: the grant fails, the ledger records nothing, but
     * the first element's open command ran and the writer keeps it recorded. Expected: the first element is undone
     * or at least closed at the grant's expiry. The ledger, which alone closes elements of this backend, does not
     * know it, so it stays open until the server restarts.
     */
    @Test
    void grantWhoseSecondOpenFailsLeavesNothingOpenAfterItsExpiry() throws Exception {
        GrantLedger fw = start(settings());
        flag("fail-open-80");
        GrantDecision d = grant("192.0.2.18", Duration.ofSeconds(1), leaf(ALICE, ISSUER, 1), "tcp/22", "tcp/80");
        assertThatThrownBy(() -> fw.open(d)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("192.0.2.18 tcp/80").hasMessageContaining("exited with 7");
        assertThat(fw.active(Instant.now())).isEmpty();
        sleepUntil(d.expiresAt().plus(LATE).plusMillis(500));
        fw.active(Instant.now());
        assertThat(calls("close")).contains("close|192.0.2.18|tcp|22|1|");
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(recorded()).isEmpty();
    }

    @Test
    void commandThatHangsIsKilledAfterTheTimeoutWithItsChildren() throws Exception {
        GrantLedger fw = start(settings().withCommandTimeout(Duration.ofMillis(400)));
        flag("slow-open");
        GrantDecision d = grant("192.0.2.16", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22");
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> fw.open(d)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("192.0.2.16 tcp/22").hasMessageContaining("did not finish within 400 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        long sleeper = Long.parseLong(Files.readString(Path.of(log + ".sleeper")).strip());
        await("the hung child to be killed", () -> !running(sleeper));
        Thread.sleep(500);
        // the killed script never went on to log its open; the close undid whatever it did
        assertThat(calls()).containsExactly("close|192.0.2.16|tcp|22|1|");
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(fw.elementCount()).isZero();
    }

    @Test
    void failedCloseIsRetriedAfterTheRetryDelayAndTheElementStaysRecordedMeanwhile() throws Exception {
        GrantLedger fw = start(settings().withRetryDelay(Duration.ofMillis(1500)));
        GrantDecision d = grant("192.0.2.17", Duration.ofMillis(500), leaf(ALICE, ISSUER, 1), "tcp/22");
        fw.open(d);
        flag("fail-close");
        await("the failed close", count("failed-close", 1));
        Call failed = timedCalls("failed-close").get(0);
        assertOnTime(failed, d.expiresAt());

        // kept by the ledger with no holder, and by the writer with its record on disk, until a close succeeds
        assertThat(fw.elementCount()).isEqualTo(1);
        assertThat(writer(fw).elements()).containsExactly("192.0.2.17 tcp/22");
        assertThat(recorded()).containsOnlyKeys(element("192.0.2.17", "tcp/22"));
        assertThat(fw.active(Instant.now())).isEmpty();

        await("the retried close", closes(1));
        Call retried = timedCalls("close").get(0);
        assertThat(Duration.between(failed.at(), retried.at())).as("time between the failed close and its retry")
                .isGreaterThan(Duration.ofMillis(1400)).isLessThan(Duration.ofMillis(1500).plus(LATE).plus(LATE));
        await("the element to be forgotten", () -> fw.elementCount() == 0);
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(recorded()).isEmpty();
        Thread.sleep(1200);
        assertThat(calls()).containsExactly("open|192.0.2.17|tcp|22|ipv4|22|22|1|1|", "failed-close|192.0.2.17|tcp|22|1|",
                "close|192.0.2.17|tcp|22|1|");
        assertThat(events).containsExactly("opened CN=alice", "closed CN=alice expired");
    }

    @Test
    void closeThatHangsIsKilledAndRetried() throws Exception {
        GrantLedger fw = start(settings().withCommandTimeout(Duration.ofMillis(400)));
        GrantDecision d = grant("192.0.2.26", Duration.ofMillis(500), leaf(ALICE, ISSUER, 1), "tcp/22");
        fw.open(d);
        flag("slow-close");
        await("the hung close", () -> Files.exists(Path.of(log + ".sleeper")));
        await("the retried close", closes(1));
        assertThat(timedCalls("close").get(0).at()).isAfter(d.expiresAt().plusMillis(400));
        long sleeper = Long.parseLong(Files.readString(Path.of(log + ".sleeper")).strip());
        assertThat(running(sleeper)).as("the hung child still runs").isFalse();
        await("the element to be forgotten", () -> fw.elementCount() == 0);
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(calls("close")).hasSize(1);
        assertThat(events).containsExactly("opened CN=alice", "closed CN=alice expired");
    }

    @Test
    void knockWhileACloseWaitsForItsRetryKeepsTheElementWithoutRunningOpen() throws Exception {
        GrantLedger fw = start(settings().withRetryDelay(Duration.ofSeconds(30)));
        fw.open(grant("192.0.2.27", Duration.ofMillis(300), leaf(ALICE, ISSUER, 1), "tcp/22"));
        flag("fail-close");
        await("the failed close", count("failed-close", 1));
        GrantDecision bob = grant("192.0.2.27", Duration.ofMillis(1500), leaf(BOB, ISSUER, 2), "tcp/22");
        assertThat(fw.open(bob)).isEqualTo(GrantOutcome.OPENED);
        // the close failed, so the firewall still holds it: nothing to open again
        assertThat(calls("open")).hasSize(1);
        assertThat(fw.active(Instant.now())).containsExactly(bob);
        await("the close at bob's expiry", closes(1));
        assertOnTime(timedCalls("close").get(0), bob.expiresAt());
        assertThat(calls("close")).containsExactly("close|192.0.2.27|tcp|22|2|");
    }

    // --------------------------------------------------------------------------------------------- restart

    @Test
    void restartClosesAtOnceWhatExpiredMeanwhileAndKeepsTheOthers() throws Exception {
        GrantLedger first = start(settings());
        GrantDecision shortOne = grant("192.0.2.30", Duration.ofSeconds(30), leaf(ALICE, ISSUER, 7), "tcp/22");
        GrantDecision longOne = grant("192.0.2.31", Duration.ofMinutes(10), leaf(BOB, ISSUER, 8), "tcp/22",
                "udp/53");
        first.open(shortOne);
        first.open(longOne);
        first.close();
        assertThat(calls("close")).isEmpty();
        assertThat(recorded()).hasSize(3);

        // the server comes back 2 minutes later: the 30 s grant expired while it was down
        Clock later = Clock.fixed(Instant.now().plusSeconds(120), ZoneOffset.UTC);
        GrantLedger second = start(settings(), GrantLedger.Settings.defaults(), later);
        assertThat(calls("close")).containsExactly("close|192.0.2.30|tcp|22|7|");
        assertThat(second.elementCount()).isEqualTo(2);
        assertThat(writer(second).elements()).containsExactly("192.0.2.31 tcp/22", "192.0.2.31 udp/53");
        assertThat(recorded()).containsOnlyKeys(element("192.0.2.31", "tcp/22"), element("192.0.2.31", "udp/53"));
        // elements from before the restart are not decisions: no event for them
        assertThat(events).containsExactly("opened CN=alice", "opened CN=bob");

        // the survivors keep their holder tags: a revocation of bob's certificate reaches them after the restart
        assertThat(second.revoke(Set.of(ref(ISSUER, 8)))).isEqualTo(2);
        assertThat(calls("close")).containsExactlyInAnyOrder("close|192.0.2.30|tcp|22|7|",
                "close|192.0.2.31|tcp|22|8|", "close|192.0.2.31|udp|53|8|");
        assertThat(recorded()).isEmpty();
        second.close();

        GrantLedger third = start(settings());
        assertThat(writer(third).elements()).isEmpty();
        assertThat(third.elementCount()).isZero();
        assertThat(calls("close")).hasSize(3);
    }

    @Test
    void afterARestartAnElementClosesAtItsExpiryAndAKnockMovesItWithoutRunningOpen() throws Exception {
        GrantLedger first = start(settings());
        GrantDecision alice = grant("192.0.2.32", Duration.ofMillis(1500), leaf(ALICE, ISSUER, 1), "tcp/22");
        GrantDecision bob = grant("192.0.2.33", Duration.ofMillis(1500), leaf(BOB, ISSUER, 2), "tcp/22");
        first.open(alice);
        first.open(bob);
        first.close();

        GrantLedger second = start(settings());
        assertThat(second.elementCount()).isEqualTo(2);
        GrantDecision bobAgain = grant("192.0.2.33", Duration.ofMillis(2500), leaf(BOB, ISSUER, 2), "tcp/22");
        assertThat(second.open(bobAgain)).isEqualTo(GrantOutcome.OPENED);
        assertThat(calls("open")).hasSize(2);

        await("alice's close", closes(1));
        assertOnTime(timedCalls("close").get(0), alice.expiresAt());
        assertThat(calls("close")).containsExactly("close|192.0.2.32|tcp|22|1|");
        await("bob's close", closes(2));
        assertOnTime(timedCalls("close").get(1), bobAgain.expiresAt());
        assertThat(calls("close").get(1)).isEqualTo("close|192.0.2.33|tcp|22|2|");
        await("the ledger to forget it", () -> second.elementCount() == 0);
        assertThat(recorded()).isEmpty();
    }

    @Test
    void unreadableStateStopsTheStartAndRunsNothing() throws Exception {
        Files.createDirectories(state.getParent());
        Files.writeString(state, "{\"version\": 2, \"open\": [{\"address\": \"192.0.2.1\"");
        assertThatThrownBy(() -> start(settings())).isInstanceOf(FirewallException.class)
                .hasMessageContaining(state.toString()).hasMessageContaining("fix or remove it");
        Files.writeString(state, """
                {"version": 2, "open": [{"address": "evil.example", "grant": "tcp/22",
                 "until": "2020-01-01T00:00:00Z", "durationMillis": 1, "serial": "1"}]}""");
        assertThatThrownBy(() -> start(settings())).isInstanceOf(FirewallException.class)
                .hasMessageContaining(state.toString()).hasMessageContaining("not an IP address literal");
        Files.writeString(state, "{\"version\": 9, \"open\": []}");
        assertThatThrownBy(() -> start(settings())).isInstanceOf(FirewallException.class)
                .hasMessageContaining(state.toString()).hasMessageContaining("unknown version 9");
        assertThat(calls()).isEmpty();
    }

    @Test
    void versionOneStateFileIsReadAndItsElementsCloseAtTheirExpiry() throws Exception {
        Instant now = Instant.now();
        Instant soon = now.plusMillis(1500);
        Files.createDirectories(state.getParent());
        // as CommandFirewall wrote it before the grant ledger (a47c0ed)
        Files.writeString(state, """
                {
                  "version" : 1,
                  "open" : [ {
                    "address" : "203.0.113.9",
                    "grant" : "tcp/8000-8010",
                    "grants" : [ "tcp/8000-8010" ],
                    "openedAt" : "2020-01-01T00:00:00Z",
                    "durationMillis" : 30000,
                    "subject" : "CN=carol",
                    "issuer" : "CN=test CA",
                    "serial" : "1f"
                  }, {
                    "address" : "203.0.113.10",
                    "grant" : "tcp/22",
                    "grants" : [ "tcp/22" ],
                    "openedAt" : "%s",
                    "durationMillis" : 30000,
                    "subject" : "CN=dave",
                    "issuer" : "CN=test CA",
                    "serial" : "20"
                  }, {
                    "address" : "203.0.113.11",
                    "grant" : "udp/53",
                    "grants" : [ "udp/53" ],
                    "openedAt" : "%s",
                    "durationMillis" : 600000,
                    "subject" : "CN=erin",
                    "issuer" : "CN=test CA",
                    "serial" : "21"
                  } ]
                }
                """.formatted(soon.minusSeconds(30), now));
        GrantLedger fw = start(settings());
        // expired while the server was down (or before the upgrade): closed during the start
        assertThat(calls()).containsExactly("close|203.0.113.9|tcp|8000-8010|1f|");
        assertThat(writer(fw).elements()).containsExactly("203.0.113.10 tcp/22", "203.0.113.11 udp/53");
        assertThat(Files.readString(state)).contains("\"version\" : 2").doesNotContain("203.0.113.9\"");

        await("the close at the recorded expiry", closes(2));
        Call close = timedCalls("close").get(1);
        assertThat(close.text()).isEqualTo("close|203.0.113.10|tcp|22|20|");
        assertOnTime(close, soon);

        // a version 1 element names no certificate: a revocation cannot find it; it closes at its expiry
        assertThat(fw.revoke(Set.of(ref(ISSUER, 0x21)))).isZero();
        assertThat(writer(fw).elements()).containsExactly("203.0.113.11 udp/53");
        assertThat(calls("close")).hasSize(2);
        assertThat(events).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ revocation

    @Test
    void revocationOfALeafOrAnIntermediateClosesItsElementsNow() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision alice1 = grant("192.0.2.20", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 5), "tcp/22", "tcp/80");
        GrantDecision alice2 = grant("192.0.2.21", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 5), "tcp/22");
        GrantDecision bob = grant("192.0.2.22", Duration.ofSeconds(60), underIntermediate(BOB, 6, 100), "tcp/22");
        GrantDecision carol = grant("192.0.2.23", Duration.ofSeconds(60), underIntermediate(CAROL, 7, 100), "tcp/22",
                "udp/53");
        GrantDecision dave = grant("192.0.2.24", Duration.ofSeconds(60), underIntermediate(DAVE, 8, 101), "tcp/22");
        GrantDecision sameSerialOtherCa = grant("192.0.2.25", Duration.ofSeconds(60), leaf(BOB, OTHER_ISSUER, 5),
                "tcp/22");
        for (GrantDecision d : List.of(alice1, alice2, bob, carol, dave, sameSerialOtherCa)) {
            assertThat(fw.open(d)).isEqualTo(GrantOutcome.OPENED);
        }

        // the intermediate 100 under the root: every grant below it closes
        assertThat(fw.revoke(Set.of(ref(ROOT, 100)))).isEqualTo(2);
        assertThat(calls("close")).containsExactlyInAnyOrder("close|192.0.2.22|tcp|22|6|", "close|192.0.2.23|tcp|22|7|",
                "close|192.0.2.23|udp|53|7|");
        assertThat(events).filteredOn(e -> e.startsWith("closed")).containsExactlyInAnyOrder("closed CN=bob revoked",
                "closed CN=carol revoked");

        // a leaf
        assertThat(fw.revoke(Set.of(ref(ISSUER, 5)))).isEqualTo(2);
        assertThat(calls("close")).hasSize(6).contains("close|192.0.2.20|tcp|22|5|", "close|192.0.2.20|tcp|80|5|",
                "close|192.0.2.21|tcp|22|5|");
        assertThat(fw.active(Instant.now())).containsExactlyInAnyOrder(dave, sameSerialOtherCa);
        assertThat(writer(fw).elements()).containsExactlyInAnyOrder("192.0.2.24 tcp/22", "192.0.2.25 tcp/22");
        assertThat(recorded()).containsOnlyKeys(element("192.0.2.24", "tcp/22"), element("192.0.2.25", "tcp/22"));

        assertThat(fw.revoke(Set.of(ref(ISSUER, 5), ref(ROOT, 100)))).isZero();
        assertThat(calls("close")).hasSize(6);
        // a knock that passed the revocation check before the CRL landed opens nothing
        assertThat(fw.open(grant("192.0.2.22", Duration.ofSeconds(60), underIntermediate(BOB, 6, 100), "tcp/22")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.REVOKED));
        assertThat(calls("open")).hasSize(8);
    }

    @Test
    void revocationAfterARestartFindsTheElementsByTheirRecordedHolderTags() throws Exception {
        GrantLedger first = start(settings());
        Holder bob = underIntermediate(BOB, 6, 100);
        first.open(grant("192.0.2.34", Duration.ofSeconds(60), bob, "tcp/22"));
        first.open(grant("192.0.2.35", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 5), "tcp/22"));
        first.open(grant("192.0.2.36", Duration.ofSeconds(60), underIntermediate(DAVE, 8, 101), "tcp/22"));
        first.close();
        assertThat(recorded().get(element("192.0.2.34", "tcp/22")).comment()).isEqualTo(HolderTags.format(bob))
                .isEqualTo("ck1 " + ref(ISSUER, 6).tag() + " " + ref(ROOT, 100).tag());

        GrantLedger second = start(settings());
        assertThat(second.revoke(Set.of(ref(ROOT, 100)))).isEqualTo(1);
        assertThat(calls("close")).containsExactly("close|192.0.2.34|tcp|22|6|");
        assertThat(second.revoke(Set.of(ref(ISSUER, 5)))).isEqualTo(1);
        assertThat(calls("close")).containsExactly("close|192.0.2.34|tcp|22|6|", "close|192.0.2.35|tcp|22|5|");
        assertThat(writer(second).elements()).containsExactly("192.0.2.36 tcp/22");
        assertThat(recorded()).containsOnlyKeys(element("192.0.2.36", "tcp/22"));
    }

    @Test
    void revocationWhoseCloseFailsIsRetriedAndNothingOpensForThatCertificateMeanwhile() throws Exception {
        GrantLedger fw = start(settings().withRetryDelay(Duration.ofMillis(300)));
        fw.open(grant("192.0.2.24", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 5), "tcp/22"));
        flag("fail-close");
        assertThatThrownBy(() -> fw.revoke(Set.of(ref(ISSUER, 5)))).isInstanceOf(FirewallException.class)
                .hasMessageContaining("192.0.2.24 tcp/22").hasMessageContaining("exited with 7");
        assertThat(writer(fw).elements()).containsExactly("192.0.2.24 tcp/22");
        assertThat(recorded()).containsOnlyKeys(element("192.0.2.24", "tcp/22"));
        assertThat(fw.open(grant("192.0.2.29", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 5), "tcp/22")))
                .isInstanceOfSatisfying(GrantOutcome.Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(GrantOutcome.Refusal.REVOKED));

        Thread.sleep(400);
        fw.active(Instant.now()); // the server's housekeeping, each second
        assertThat(calls()).containsExactly("open|192.0.2.24|tcp|22|ipv4|22|22|60|5|", "failed-close|192.0.2.24|tcp|22|5|",
                "close|192.0.2.24|tcp|22|5|");
        assertThat(writer(fw).elements()).isEmpty();
        assertThat(recorded()).isEmpty();
        assertThat(fw.active(Instant.now())).isEmpty();
        assertThat(events).containsExactly("opened CN=alice", "closed CN=alice revoked");
    }

    /**
     * Bob's later expiry is what the element was written with; revoking bob writes it again for alice. For this
     * backend that is bob's close command, then alice's open command (there is no in-place replace): the element is
     * closed for a moment, and then held for alice until her expiry.
     */
    @Test
    void revokingTheHolderThatSetTheExpiryRewritesTheElementForTheOthers() throws Exception {
        GrantLedger fw = start(settings());
        GrantDecision alice = grant("192.0.2.28", Duration.ofSeconds(2), leaf(ALICE, ISSUER, 1), "tcp/22");
        GrantDecision bob = grant("192.0.2.28", Duration.ofSeconds(60), leaf(BOB, ISSUER, 2), "tcp/22");
        fw.open(alice);
        fw.open(bob);
        assertThat(fw.revoke(Set.of(ref(ISSUER, 2)))).isEqualTo(1);
        // the element stays open throughout (no close and open again): only its record now names alice
        assertThat(calls()).containsExactly("open|192.0.2.28|tcp|22|ipv4|22|22|2|1|");
        assertThat(fw.active(Instant.now())).containsExactly(alice);
        CommandState.Recorded r = recorded().get(element("192.0.2.28", "tcp/22"));
        assertThat(r.serial()).isEqualTo(BigInteger.ONE);
        assertThat(r.comment()).isEqualTo(HolderTags.format(alice.holder()));
        assertThat(r.until()).isAfterOrEqualTo(alice.expiresAt()).isBefore(alice.expiresAt().plusMillis(500));

        await("alice's close", closes(1));
        assertOnTime(timedCalls("close").get(0), alice.expiresAt());
        assertThat(calls("close").get(0)).isEqualTo("close|192.0.2.28|tcp|22|1|");
    }

    // ------------------------------------------------------------------------------------------------- stop

    @Test
    void removeAllOnStopClosesEverythingOtherwiseElementsStayRecorded() throws Exception {
        GrantLedger keep = start(settings());
        keep.open(grant("192.0.2.70", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22"));
        keep.close();
        assertThat(calls("close")).isEmpty();
        assertThat(recorded()).containsOnlyKeys(element("192.0.2.70", "tcp/22"));

        GrantLedger flush = start(settings(), GrantLedger.Settings.defaults().withRemoveAllOnStop(true));
        assertThat(writer(flush).elements()).containsExactly("192.0.2.70 tcp/22");
        flush.open(grant("192.0.2.71", Duration.ofSeconds(60), leaf(BOB, ISSUER, 2), "tcp/22", "udp/53"));
        flush.close();
        assertThat(calls("close")).containsExactlyInAnyOrder("close|192.0.2.70|tcp|22|1|", "close|192.0.2.71|tcp|22|2|",
                "close|192.0.2.71|udp|53|2|");
        assertThat(recorded()).isEmpty();
        // alice's element is from before the restart, not a decision of this run
        assertThat(events).containsExactly("opened CN=alice", "opened CN=bob", "closed CN=bob stopped");
    }

    @Test
    void closeThatFailsAtStopLeavesTheElementForTheNextStart() throws Exception {
        GrantLedger flush = start(settings(), GrantLedger.Settings.defaults().withRemoveAllOnStop(true));
        flush.open(grant("192.0.2.72", Duration.ofSeconds(60), leaf(ALICE, ISSUER, 1), "tcp/22"));
        flush.open(grant("192.0.2.73", Duration.ofSeconds(60), leaf(BOB, ISSUER, 2), "tcp/22"));
        flag("fail-close-22");
        flush.close();
        assertThat(recorded()).hasSize(1);
        assertThat(calls("close")).hasSize(1);
        GrantLedger next = start(settings());
        assertThat(next.elementCount()).isEqualTo(1);
        assertThat(writer(next).elements()).hasSize(1);
    }

    /**
     * After {@code close()} the ledger's timer is gone; a grant still in the pipeline must not run an open command
     * that nothing will ever close (expected: refused or a FirewallException, and no command).
     */
    @Test
    void openAfterStopRunsNothing() throws Exception {
        GrantLedger fw = start(settings());
        fw.close();
        GrantDecision d = grant("192.0.2.74", Duration.ofSeconds(1), leaf(ALICE, ISSUER, 1), "tcp/22");
        try {
            assertThat(fw.open(d)).isInstanceOf(GrantOutcome.Refused.class);
        } catch (FirewallException expected) {
            // as good as a refusal
        }
        assertThat(calls()).isEmpty();
        if (Files.exists(state)) {
            assertThat(recorded()).isEmpty();
        }
    }
}
