package dev.certknock.server.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.server.ServerFixture;
import dev.certknock.server.knock.DropReason;
import dev.certknock.testing.redis.RedisServer;
import dev.certknock.testing.wait.Await;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway group (docs/DESIGN.md D36): knock-server instances holding one knock key share their replay state in a
 * real redis-server on loopback, so a knock granted at one is a replay at the others; a store that does not answer
 * fails knocks closed ({@link DropReason#REPLAY_STORE_UNAVAILABLE}) without holding up the pipeline.
 */
class GatewayGroupTest {

    private static final java.net.Inet4Address LOOPBACK = ServerFixture.ipv4("127.0.0.1");

    @TempDir
    Path dir;

    /** One CA, one server key: both gateways get the same bundle. */
    private final ServerFixture f = new ServerFixture();

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(what, Duration.ofSeconds(15), Duration.ofMillis(10), condition);
    }

    /** A gateway's configuration in its own directory, with {@code replayStore} (and whatever else) in knock. */
    private ServerMaterial gateway(String name, String knockYaml) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        Path config = f.writeConfig(d, f.ca.crl().build(), "");
        Files.writeString(config, Files.readString(config).replace("  replayJournal: replay.journal\n",
                "  replayJournal: replay.journal\n" + knockYaml));
        return ServerMaterial.load(config);
    }

    private byte[] knock(String client) {
        return f.knock(f.client(client).build(), ServerFixture.ssh(60).withDeclaredIpv4(LOOPBACK));
    }

    private static void send(KnockServer s, byte[] datagram) throws Exception {
        ServerFixture.sendFromLoopback(s.knockAddress(), datagram);
    }

    private static void awaitReady(KnockServer s) throws InterruptedException {
        await("the CRL", () -> !s.crls().store().infos().isEmpty());
        await("the replay store", () -> s.replayStore().available());
    }

    private static long granted(KnockServer a, KnockServer b) {
        return a.counters().accepted() + b.counters().accepted();
    }

    @Test
    void theSameDatagramAtTwoGatewaysIsGrantedOnce() throws Exception {
        try (RedisServer redis = RedisServer.start(dir)) {
            String store = "  replayStore: " + redis.uri() + "\n";
            try (KnockServer a = KnockServer.start(gateway("a", store), f.clock);
                    KnockServer b = KnockServer.start(gateway("b", store), f.clock)) {
                awaitReady(a);
                awaitReady(b);
                List<String> clients = List.of("alice", "bob", "carol", "dave", "erin");
                for (String c : clients) {
                    byte[] d = knock(c);
                    send(a, d); // captured at A ...
                    send(b, d); // ... and replayed at B at once (or the other way round: whichever commits first)
                }
                int n = clients.size();
                await("every copy judged", () -> granted(a, b)
                        + a.counters().dropped(DropReason.REPLAY) + b.counters().dropped(DropReason.REPLAY) == 2L * n);
                assertThat(granted(a, b)).as("exactly one grant per datagram").isEqualTo(n);
                assertThat(a.counters().dropped(DropReason.REPLAY) + b.counters().dropped(DropReason.REPLAY)).isEqualTo(n);
                assertThat(redis.command("DBSIZE")).isEqualTo(Integer.toString(n));
            }
        }
    }

    @Test
    void withoutTheSharedStoreBothGatewaysGrantTheSameDatagram() throws Exception {
        // The control: what the issue is about. Each gateway's own replay cache lets the other's knock through.
        try (KnockServer a = KnockServer.start(gateway("a", ""), f.clock);
                KnockServer b = KnockServer.start(gateway("b", ""), f.clock)) {
            awaitReady(a);
            awaitReady(b);
            byte[] d = knock("alice");
            send(a, d);
            send(b, d);
            await("both grants", () -> granted(a, b) == 2);
        }
    }

    @Test
    void aStoppedOrHangingStoreRefusesKnocksWithItsReasonAndTheyResumeWhenItAnswers() throws Exception {
        try (RedisServer redis = RedisServer.start(dir);
                KnockServer gw = KnockServer.start(gateway("a", "  replayStore: " + redis.uri()
                        + "\n  replayStoreTimeout: 100ms\n"), f.clock)) {
            awaitReady(gw);
            send(gw, knock("alice"));
            await("alice's grant", () -> gw.counters().accepted() == 1);

            // Stopped: refused with the reason, the server's failure, not the sender's.
            redis.stop();
            await("the outage noticed", () -> !gw.replayStore().available());
            send(gw, knock("bob"));
            await("bob refused", () -> gw.counters().dropped(DropReason.REPLAY_STORE_UNAVAILABLE) == 1);
            redis.restart();
            await("the store back", () -> gw.replayStore().available());
            send(gw, knock("bob"));
            await("bob's grant", () -> gw.counters().accepted() == 2);

            // Hanging (SIGSTOP): the first knock waits one deadline, the others are refused at once.
            redis.pause();
            try {
                List<String> clients = List.of("carol", "dave", "erin", "frank", "grace", "heidi");
                List<byte[]> knocks = clients.stream().map(this::knock).toList();
                long t0 = System.nanoTime();
                for (byte[] k : knocks) {
                    send(gw, k);
                }
                await("all refused", () -> gw.counters().dropped(DropReason.REPLAY_STORE_UNAVAILABLE) == 1 + clients.size());
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(took).as("six knocks against a hanging store").isLessThan(Duration.ofMillis(1500));
                // Junk is still judged meanwhile: capture and pipeline do not wait for Redis.
                send(gw, new byte[] {1, 9, 3});
                await("the junk", () -> gw.counters().dropped(DropReason.UNSUPPORTED_SUITE) == 1);
            } finally {
                redis.resume();
            }
            await("the store back", () -> gw.replayStore().available());
            send(gw, knock("ivan"));
            await("ivan's grant", () -> gw.counters().accepted() == 3);
            assertThat(DropReason.REPLAY_STORE_UNAVAILABLE.chargedToSender()).isFalse();
        }
    }
}
