package dev.certknock.server.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.dispatch.KnockDispatcher;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.Outcome;
import dev.certknock.server.pipeline.Stage;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.ElementChange;
import dev.certknock.server.firewall.ElementWriter;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.HeldElement;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupRehearsalTest {

    private final MutableClock clock = MutableClock.at(Instant.parse("2026-12-04T10:00:00Z"));

    @TempDir
    Path dir;

    /** A writer standing for a kernel backend: records what it was asked to write and to check. */
    private static final class RecordingWriter implements ElementWriter {
        final List<List<ElementChange>> applied = new CopyOnWriteArrayList<>();
        final List<List<ElementChange>> checked = new CopyOnWriteArrayList<>();
        volatile boolean refuseChecks;

        @Override
        public void setUp() {
        }

        @Override
        public void apply(List<ElementChange> batch) {
            applied.add(List.copyOf(batch));
        }

        @Override
        public void check(List<ElementChange> batch) throws FirewallException {
            if (refuseChecks) {
                throw new FirewallException("refused by the test", null);
            }
            checked.add(List.copyOf(batch));
        }

        @Override
        public List<HeldElement> list() {
            return List.of();
        }

        @Override
        public boolean expiresByItself() {
            return true;
        }

        @Override
        public void warmUp() {
        }

        @Override
        public void removeAll() {
        }

        @Override
        public String describe() {
            return "recording";
        }

        @Override
        public void close() {
        }
    }

    /** The server's own listener: must hear nothing of the rehearsal. */
    private static final class Heard implements KnockEventListener {
        final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public void grantOpened(GrantDecision d) {
            events.add("opened " + d.address());
        }

        @Override
        public void grantClosed(GrantDecision d, CloseReason why) {
            events.add("closed " + d.address());
        }
    }

    private List<ServerPrivateKey> serverKeys() {
        TestCa ca = TestCa.root("CN=rehearsal test CA", clock);
        IssuedCertificate p256 = ca.leaf("CN=gw-p256").extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        IssuedCertificate x25519 = ca.leaf("CN=gw-x25519").keyType(KeyType.X25519)
                .extendedKeyUsage(CertknockOids.KP_SERVER.getId()).build();
        return List.of(ServerPrivateKey.of(p256.privateKey(), p256.certificate()),
                ServerPrivateKey.of(x25519.privateKey(), x25519.certificate()));
    }

    private ServerConfig config(String extra) throws Exception {
        return ConfigLoader.parse(dir.resolve("config.yaml"), """
                server:
                  name: gw1.example.test
                  identities: [{bundle: server.p12, passwordEnv: PW}]
                trust:
                  anchors: [ca.pem]
                protect: [tcp/2222, udp/8000-8100]
                knock:
                  replayJournal: state/replay.journal
                  replies: true
                """ + extra, dir);
    }

    @Test
    void everyKnockPassesTheWholePipelineAndOnlyTheBackendsDryRunSeesIt() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        Heard heard = new Heard();
        KnockCounters serverCounters = new KnockCounters();
        try (GrantLedger ledger = new GrantLedger(writer, GrantLedger.Settings.defaults(), clock,
                KnockEventListener.composite(List.of(heard, serverCounters))).start()) {

            StartupRehearsal.Result r = StartupRehearsal.run(config(""), serverKeys(), ledger, 3, clock);

            // 3 rounds x 2 server keys x 2 client key types, every one accepted (a failure anywhere: fewer, and a WARN)
            assertThat(r.knocks()).isEqualTo(12);
            assertThat(r.dropped()).isEmpty();
            assertThat(r.accepted()).isEqualTo(12);
            // the backend checked the rehearsal's grants, on the protected port, from documentation addresses only
            List<ElementChange> checked = writer.checked.stream().flatMap(List::stream).toList();
            assertThat(checked).isNotEmpty().allSatisfy(c -> {
                assertThat(c).isInstanceOf(ElementChange.Add.class);
                assertThat(c.element().ports().toString()).isEqualTo("tcp/2222");
                String a = c.element().address().getHostAddress();
                assertThat(a.startsWith("192.0.2.") || a.startsWith("2001:db8:")).as(a).isTrue();
            });
            assertThat(checked).anyMatch(c -> c.element().address() instanceof java.net.Inet6Address);
            // and nothing was written, granted, counted or heard by the server's own ledger and listeners
            assertThat(writer.applied).isEmpty();
            assertThat(ledger.active(clock.instant())).isEmpty();
            assertThat(heard.events).isEmpty();
            assertThat(serverCounters.received()).isZero();
        }
        // its replay journal lived beside the real one and is gone; the real journal was never created
        try (Stream<Path> left = Files.list(dir.resolve("state"))) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void theBackgroundRehearsalRunsJunkToo_atTheLowestPriority_withoutTheBackendOrAJournal() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        Heard heard = new Heard();
        KnockCounters serverCounters = new KnockCounters();
        try (GrantLedger ledger = new GrantLedger(writer, GrantLedger.Settings.defaults(), clock,
                KnockEventListener.composite(List.of(heard, serverCounters))).start();
                StartupRehearsal.Background background = StartupRehearsal.inBackground(config(""), serverKeys(), ledger,
                        StartupRehearsal.Plan.inBackground(2, 150), clock, null)) {
            // while it runs, its threads (the rehearsal's own and its dispatcher's worker) are at nice 19
            Map<String, Integer> seen = new TreeMap<>();
            StartupRehearsal.Result r = null;
            for (int i = 0; i < 6000 && r == null; i++) {
                rehearsalThreadNices().forEach(seen::put);
                r = background.await(Duration.ofMillis(5));
            }
            assertThat(r).as("finished within 30 s").isNotNull();
            // 2 rounds x 2 server keys x 2 client key types accepted; 150 junk datagrams per server key, each dropped
            // as a decryption failure (a well-formed flood's path), none pushed out or refused at the queue
            assertThat(r.knocks()).isEqualTo(8);
            assertThat(r.accepted()).isEqualTo(8);
            assertThat(r.dropped()).containsExactly(Map.entry(DropReason.DECRYPTION_FAILED, 300));
            assertThat(seen).as("rehearsal threads seen while it ran").isNotEmpty()
                    .allSatisfy((name, nice) -> assertThat(nice).as(name).isEqualTo(LowPriority.LOWEST));
            // the backend never checked a batch (that would take the live ledger's lock at nice 19), nothing was
            // granted or heard by the server, and no journal file was written beside the real one
            assertThat(writer.checked).isEmpty();
            assertThat(writer.applied).isEmpty();
            assertThat(ledger.active(clock.instant())).isEmpty();
            assertThat(heard.events).isEmpty();
            assertThat(serverCounters.received()).isZero();
            if (Files.exists(dir.resolve("state"))) {
                try (Stream<Path> left = Files.list(dir.resolve("state"))) {
                    assertThat(left.toList()).isEmpty();
                }
            }
        }
    }

    @Test
    void theBackgroundRehearsalHandsNothingOverWhileLiveDatagramsWait_andFinishesOnceTheyAreDone() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        CountDownLatch release = new CountDownLatch(1);
        KnockCounters liveCounters = new KnockCounters();
        Stage busy = ctx -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.drop(DropReason.TRUNCATED, "test");
        };
        // the live server: its one worker is on a datagram and another waits in its queue
        try (KnockDispatcher live = new KnockDispatcher(new KnockPipeline(List.of(busy), liveCounters, clock), liveCounters,
                16, 1);
                GrantLedger ledger = new GrantLedger(writer, GrantLedger.Settings.defaults(), clock,
                        new KnockEventListener() { }).start()) {
            assertThat(live.offer(ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("198.51.100.1", 1), clock.instant())))
                    .isTrue();
            assertThat(live.offer(ReceivedDatagram.of(new byte[] {1}, new InetSocketAddress("198.51.100.2", 1), clock.instant())))
                    .isTrue();
            try (StartupRehearsal.Background background = StartupRehearsal.inBackground(config(""), serverKeys(), ledger,
                    StartupRehearsal.Plan.inBackground(2, 30), clock, live)) {
                LiveTrafficYield y = background.yielding();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (y.waited().compareTo(Duration.ofMillis(400)) < 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                // it has been waiting for 400 ms and handed over nothing: no knock, no junk
                assertThat(y.waited()).isGreaterThanOrEqualTo(Duration.ofMillis(400));
                assertThat(y.slices()).isZero();
                assertThat(background.await(Duration.ZERO)).isNull();
                release.countDown();
                StartupRehearsal.Result r = background.await(Duration.ofSeconds(30));
                assertThat(r).as("finished once the live datagrams were done").isNotNull();
                assertThat(r.knocks()).isEqualTo(8);
                assertThat(r.accepted()).isEqualTo(8);
                assertThat(r.dropped()).containsExactly(Map.entry(DropReason.DECRYPTION_FAILED, 60));
                // 8 knocks and 2 x 3 junk slices of 10, the first of them after a pause
                assertThat(y.slices()).isEqualTo(8 + 6);
                assertThat(y.pauses()).isGreaterThanOrEqualTo(1);
                assertThat(live.taken()).isEqualTo(2);
                assertThat(liveCounters.received()).as("the live pipeline saw its own two datagrams only").isEqualTo(2);
                assertThat(writer.checked).isEmpty();
                assertThat(writer.applied).isEmpty();
            }
        }
    }

    @Test
    void closingTheServerStopsTheBackgroundRehearsalPromptly() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        try (GrantLedger ledger = new GrantLedger(writer, GrantLedger.Settings.defaults(), clock,
                new KnockEventListener() { }).start()) {
            // other tests' servers may still be winding their own rehearsals down: only this one's threads count
            Set<String> before = rehearsalThreadNices().keySet();
            StartupRehearsal.Background background = StartupRehearsal.inBackground(config(""), serverKeys(), ledger,
                    StartupRehearsal.Plan.inBackground(100_000, 1_000_000), clock, null);
            Thread.sleep(300);
            long start = System.nanoTime();
            background.close();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            StartupRehearsal.Result r = background.await(Duration.ZERO);
            assertThat(r).as("it ended").isNotNull();
            assertThat(r.knocks()).isLessThan(100_000 * 4);
            // a thread that Java has seen end leaves /proc a moment later
            Set<String> left = rehearsalThreadNices().keySet();
            for (int i = 0; i < 100 && !before.containsAll(left); i++) {
                Thread.sleep(10);
                left = rehearsalThreadNices().keySet();
            }
            assertThat(left).as("no rehearsal thread of its own left").isSubsetOf(before);
        }
    }

    /** Threads of this process named knock-rehearsal*, with their nice values (Linux /proc). */
    private static Map<String, Integer> rehearsalThreadNices() throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    if (comm.startsWith("knock-rehearsa")) {
                        String stat = Files.readString(t.resolve("stat"));
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        out.put(comm + "/" + t.getFileName(), Integer.parseInt(f[19 - 3]));
                    }
                } catch (IOException | RuntimeException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }

    @Test
    void aPerCertificateLimitOfOneStillLetsEveryKnockThrough() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        try (GrantLedger ledger = new GrantLedger(writer, new GrantLedger.Settings(1, 1, false), clock,
                new KnockEventListener() { }).start()) {
            StartupRehearsal.Result r = StartupRehearsal.run(config(""), serverKeys().subList(0, 1), ledger, 4, clock);
            assertThat(r.dropped()).isEmpty();
            assertThat(r.accepted()).isEqualTo(8);
        }
    }

    @Test
    void theBackendDryRunsOnlyTheFirstBatchesTheRestStayInTheLedger() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        try (GrantLedger ledger = new GrantLedger(writer, GrantLedger.Settings.defaults(), clock,
                new KnockEventListener() { }).start()) {
            StartupRehearsal.Result r = StartupRehearsal.run(config(""), serverKeys().subList(0, 1), ledger, 20, clock);
            assertThat(r.accepted()).isEqualTo(40);
            assertThat(writer.checked).hasSize(32);
            assertThat(writer.applied).isEmpty();
        }
    }

    @Test
    void aBackendThatRefusesTheDryRunIsReportedNotHidden() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        writer.refuseChecks = true;
        try (GrantLedger ledger = new GrantLedger(writer, GrantLedger.Settings.defaults(), clock,
                new KnockEventListener() { }).start()) {
            StartupRehearsal.Result r = StartupRehearsal.run(config(""), serverKeys().subList(0, 1), ledger, 2, clock);
            assertThat(r.knocks()).isEqualTo(4);
            assertThat(r.accepted()).isZero();
            assertThat(r.dropped()).containsEntry(DropReason.FIREWALL_FAILED, 4);
            assertThat(writer.applied).isEmpty();
        }
    }

    @Test
    void withoutAJournalTheRehearsalKeepsItsReplayStateInMemoryAndAnEphemeralKnockPortIsFine() throws Exception {
        RecordingWriter writer = new RecordingWriter();
        List<Path> before;
        try (Stream<Path> s = Files.list(dir)) {
            before = new ArrayList<>(s.toList());
        }
        try (GrantLedger ledger = new GrantLedger(writer, GrantLedger.Settings.defaults(), clock,
                new KnockEventListener() { }).start()) {
            ServerConfig noJournal = ConfigLoader.parse(dir.resolve("config.yaml"), """
                    server:
                      name: gw1.example.test
                      identities: [{bundle: server.p12, passwordEnv: PW}]
                    trust:
                      anchors: [ca.pem]
                    protect: [udp/53]
                    capture:
                      address: 127.0.0.1
                      port: 0
                    """, dir);
            StartupRehearsal.Result r = StartupRehearsal.run(noJournal, serverKeys(), ledger, 2, clock);
            assertThat(r.accepted()).isEqualTo(8);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.toList()).containsExactlyInAnyOrderElementsOf(before);
        }
    }
}
