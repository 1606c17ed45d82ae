package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.knock.KnockVersion;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code knock} against a knock v2 server on loopback that replies: the address learned behind NAT, the cache
 * file, the reply options and the exit codes. The "NAT" address 192.0.2.33 (TEST-NET) is only written inside
 * replies.
 */
class KnockReplyCommandTest {

    private static final String NL = System.lineSeparator();

    @TempDir
    Path dir;

    private CliPki pki;
    private InetAddress natted;
    private Path defaultCache;

    @BeforeEach
    void setUp() throws Exception {
        pki = new CliPki(dir);
        natted = InetAddress.getByName("192.0.2.33");
        defaultCache = dir.resolve("home").resolve(".cache").resolve("certknock").resolve("observed-addresses.json");
    }

    private ReplyServer behindNat() throws Exception {
        return new ReplyServer(pki.opener(), natted, false, System::currentTimeMillis);
    }

    @Test
    void behindNatItLearnsTheAddressKnocksAgainAndRemembersIt() throws Exception {
        try (ReplyServer server = behindNat()) {
            int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port()));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(server.failures()).isEmpty();
            assertThat(server.knocks()).hasSize(2);
            assertThat(server.knocks().get(1).from()).isEqualTo(server.knocks().get(0).from());
            assertThat(pki.out.toString()).matches("sent 2 knocks \\(the last \\d+ bytes\\) to 127\\.0\\.0\\.1 port "
                    + server.port() + " from port " + server.knocks().get(0).from().getPort()
                    + ": tcp/22 for 60 s, declaring 192\\.0\\.2\\.33\\R"
                    + "learned address 192\\.0\\.2\\.33 from the server; knocked again\\R"
                    + "opened tcp/22 for 60 s for 192\\.0\\.2\\.33 \\(confirmed by the server\\)\\R");
            assertThat(pki.err.toString()).isEmpty();

            assertThat(Files.getPosixFilePermissions(defaultCache)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(Files.readString(defaultCache)).contains("\"observed\" : \"192.0.2.33\"")
                    .contains("\"route\" : \"127.0.0.1\"").contains("\"host\" : \"127.0.0.1\"");

            // The next run declares the cached address at once.
            pki.reset();
            rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port(), "-v"));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(server.knocks()).hasSize(3);
            assertThat(server.knocks().get(2).verified().content().declaredIpv4()).contains(
                    (java.net.Inet4Address) natted);
            assertThat(pki.out.toString()).startsWith("sent a ")
                    .contains("  address     declared first: the address this server reported last time")
                    .contains("opened tcp/22 for 60 s for 192.0.2.33 (confirmed by the server)")
                    .doesNotContain("learned");
        }
    }

    @Test
    void theCacheFollowsXdgCacheHomeOrTheOptionOrIsOff() throws Exception {
        Path xdg = dir.resolve("xdg");
        pki.env.put("XDG_CACHE_HOME", xdg.toString());
        try (ReplyServer server = behindNat()) {
            assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port()))).isZero();
            assertThat(xdg.resolve("certknock").resolve("observed-addresses.json")).exists();
            Path chosen = dir.resolve("elsewhere").resolve("cache.json");
            assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port(),
                    "--address-cache", chosen.toString()))).isZero();
            assertThat(chosen).exists();
            assertThat(server.knocks()).hasSize(4); // each file started empty: learned twice
            assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port(),
                    "--no-address-cache"))).isZero();
            assertThat(server.knocks()).hasSize(6); // nothing read: learned again
            assertThat(defaultCache).doesNotExist();
            pki.reset();
            assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--address-cache", chosen.toString(),
                    "--no-address-cache"))).isEqualTo(2);
            assertThat(pki.err.toString()).contains("give --address-cache or --no-address-cache, not both");
        }
    }

    @Test
    void aCorruptCacheFileIsIgnoredWithOneWarningAndRewritten() throws Exception {
        Files.createDirectories(defaultCache.getParent());
        Files.writeString(defaultCache, "{\"version\":1,\"entries\":[{\"host\":\"gw1\",\"knockPort\":70000");
        try (ReplyServer server = behindNat()) {
            int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port()));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.err.toString()).startsWith("knock: warning: the address cache " + defaultCache
                    + " is not valid (").endsWith("): ignoring it and writing it anew" + NL);
            assertThat(pki.err.toString().lines()).hasSize(1);
            assertThat(pki.out.toString()).contains("(confirmed by the server)");
            assertThat(Files.readString(defaultCache)).contains("192.0.2.33");

            // valid JSON, invalid content: the same
            Files.writeString(defaultCache, "{\"version\":1,\"entries\":[{\"host\":\"h\",\"knockPort\":1,"
                    + "\"route\":\"gw1.example.test\",\"observed\":\"192.0.2.1\"}]}");
            pki.reset();
            assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port()))).isZero();
            assertThat(pki.err.toString()).contains("is not valid ('gw1.example.test' is not an IP address)");
        }
    }

    @Test
    void requireReplyExits12WhenTheServerStaysSilent() throws Exception {
        try (ReplyServer server = new ReplyServer(pki.opener(), null, true, System::currentTimeMillis)) {
            int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port(),
                    "--reply-timeout", "0.3", "--require-reply"));
            assertThat(rc).isEqualTo(KnockExitCodes.UNCONFIRMED);
            assertThat(pki.err.toString()).isEqualTo("knock: sent; no reply within 0.3 s (a v1 server, or the knock "
                    + "or its reply was lost; a server also stays silent when it refuses a knock: check your grants "
                    + "and the clocks)" + NL + "knock: --require-reply: the server did not confirm the knock" + NL);
            assertThat(server.knocks()).hasSize(1);
        }
    }

    @Test
    void aConfirmedKnockWithoutNatPrintsTheOpeningAndRemembersNothing() throws Exception {
        try (ReplyServer server = new ReplyServer(pki.opener(), null, false, System::currentTimeMillis)) {
            int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port(), "--require-reply"));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.out.toString()).endsWith("opened tcp/22 for 60 s for 127.0.0.1 (confirmed by the server)" + NL);
            assertThat(defaultCache).doesNotExist();
        }
    }

    @Test
    void aServerClockOffByMoreThanFiveSecondsIsWarnedAbout() throws Exception {
        try (ReplyServer server = new ReplyServer(pki.opener(), null, false,
                () -> System.currentTimeMillis() + 20_000)) {
            int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port()));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.err.toString()).startsWith("knock: warning: the server's clock is ")
                    .contains(" s ahead of this host's; the server accepts knocks only within its timestamp window");
        }
        pki.reset();
        try (ReplyServer server = new ReplyServer(pki.opener(), null, false, System::currentTimeMillis)) {
            assertThat(pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port()))).isZero();
            assertThat(pki.err.toString()).isEmpty();
        }
    }

    @Test
    void protocolOneDeclaresNothingAndWaitsForNothing() throws Exception {
        try (ReplyServer server = new ReplyServer(pki.opener(), null, true, System::currentTimeMillis)) {
            int rc = pki.knock(pki.credentials("127.0.0.1", "tcp/22", "--knock-port", server.port(), "--protocol", "1"));
            assertThat(rc).as(pki.err.toString()).isZero();
            assertThat(pki.out.toString()).endsWith("tcp/22 for 60 s (protocol v1)" + NL);
            assertThat(pki.err.toString()).isEmpty();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (server.knocks().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(server.knocks()).hasSize(1);
            assertThat(server.knocks().get(0).verified().version()).isEqualTo(KnockVersion.V1);
            assertThat(server.knocks().get(0).verified().content().declaredIpv4()).isEmpty();
        }
    }

    @Test
    void contradictoryReplyOptionsAreUsageErrors() {
        String[][] cases = {
            {"--protocol", "3"},
            {"--protocol", "1", "--require-reply"},
            {"--no-reply", "--require-reply"},
            {"--dry-run", "--require-reply"},
            {"--protocol", "1", "--reply-timeout", "2"},
            {"--no-reply", "--reply-timeout", "2"},
            {"--reply-timeout", "soon"},
            {"--reply-timeout", "0"},
            {"--reply-timeout", "31"},
        };
        for (String[] c : cases) {
            pki.reset();
            String[] args = new String[c.length + 2];
            args[0] = "127.0.0.1";
            args[1] = "tcp/22";
            System.arraycopy(c, 0, args, 2, c.length);
            assertThat(pki.knock(pki.credentials(args))).as(String.join(" ", c) + ": " + pki.err).isEqualTo(2);
        }
        assertThat(pki.err.toString()).contains("--reply-timeout 31 is not a number of seconds from 0.001 to 30");
    }
}
