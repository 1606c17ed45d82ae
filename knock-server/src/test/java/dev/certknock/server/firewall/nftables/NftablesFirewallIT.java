package dev.certknock.server.firewall.nftables;

import dev.certknock.server.grant.TestHolders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.testing.time.MutableClock;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The nftables backend against the real kernel. Needs root, {@code nft} and {@code ip}; skipped
 * otherwise. Each test works in its own network namespace, deleted afterwards even on failure, so the
 * host's ruleset is never touched.
 */
class NftablesFirewallIT {

    static final X500Principal CA = new X500Principal("CN=IT CA");
    static final List<PortGrant> PROTECT = List.of(PortGrant.parse("tcp/22"), PortGrant.parse("tcp/8000-8100"),
            PortGrant.parse("udp/51820"));

    String ns;
    NftExecutor nft;

    @BeforeAll
    static void requireRootNftAndIp() {
        Optional<String> uid = quietly(List.of("id", "-u"));
        assumeTrue(uid.isPresent() && uid.get().strip().equals("0"),
                "skipped: the nftables integration tests need root (they create network namespaces)");
        assumeTrue(quietly(List.of("nft", "--version")).isPresent(), "skipped: the nft program is not installed");
        assumeTrue(quietly(List.of("ip", "-V")).isPresent(), "skipped: the ip program (iproute2) is not installed");
    }

    @BeforeEach
    void createNamespace() throws Exception {
        ns = "ck-test-" + HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(4));
        assumeTrue(quietly(List.of("ip", "netns", "add", ns)).isPresent(),
                "skipped: cannot create a network namespace here (ip netns add failed)");
        run("ip", "-n", ns, "link", "set", "lo", "up");
        nft = new ProcessNftExecutor(List.of("ip", "netns", "exec", ns));
    }

    @AfterEach
    void deleteNamespace() {
        if (ns != null) {
            quietly(List.of("ip", "netns", "del", ns));
        }
    }

    NftablesFirewall firewall(boolean reject, boolean flushOnStop, Clock clock) {
        return new NftablesFirewall(new NftSettings("certknock", 62201, PROTECT, reject, flushOnStop,
                List.of("ip", "netns", "exec", ns)), clock, new KnockEventListener() {
                });
    }

    static GrantDecision decision(String address, Instant openedAt, long seconds, long serial, String... grants)
            throws Exception {
        List<PortGrant> g = new ArrayList<>();
        for (String s : grants) {
            g.add(PortGrant.parse(s));
        }
        return TestHolders.decision(InetAddress.getByName(address), g, Duration.ofSeconds(seconds), openedAt,
                new X500Principal("CN=client " + serial), CA, BigInteger.valueOf(serial));
    }

    List<String> elements(NftablesFirewall fw) throws FirewallException {
        return fw.kernelElements().stream().map(l -> l.element().text()).sorted().toList();
    }

    Optional<NftListing.Listed> listed(NftablesFirewall fw, String text) throws FirewallException {
        return fw.kernelElements().stream().filter(l -> l.element().text().equals(text)).findFirst();
    }

    @Test
    void setupIsIdempotentAndKeepsGrants() throws Exception {
        NftablesFirewall fw = firewall(false, false, Clock.systemUTC());
        fw.start();
        String first = nftOut("list", "ruleset");
        fw.open(decision("198.51.100.7", Instant.now(), 60, 1, "tcp/22"));
        fw.start();
        new NftablesFirewall(new NftSettings("certknock", 62201, PROTECT, false, false, List.of("ip", "netns", "exec", ns)),
                Clock.systemUTC(), new KnockEventListener() {
                }).start(); // a restarted server
        String again = nftOut("list", "ruleset");
        assertThat(count(again, "table inet certknock")).isEqualTo(1);
        assertThat(count(again, "\n\ttable ")).isZero();
        assertThat(chain(again)).isEqualTo(chain(first));
        assertThat(count(chain(again), " drop\n")).isEqualTo(4); // knock port + 3 protected ranges, not doubled
        assertThat(elements(fw)).containsExactly("198.51.100.7 . tcp . 22");
    }

    @Test
    void setupReplacesAChainWithAnotherPriority() throws Exception {
        nft.apply("table inet certknock {\n\tchain input {\n\t\ttype filter hook input priority filter + 5; policy accept;\n"
                + "\t\ttcp dport 1 drop\n\t}\n}\n");
        firewall(false, false, Clock.systemUTC()).start();
        String ruleset = nftOut("list", "ruleset");
        assertThat(ruleset).contains("priority filter - 10;").doesNotContain("dport 1 drop");
    }

    @Test
    void renderedScriptsLoadInDropAndRejectMode() throws Exception {
        NftablesFirewall rejecting = firewall(true, false, Clock.systemUTC());
        rejecting.start();
        assertThat(nftOut("list", "chain", "inet", "certknock", "input")).contains("tcp dport 22 reject with tcp reset",
                "udp dport 51820 reject");
        firewall(false, false, Clock.systemUTC()).start();
        assertThat(nftOut("list", "chain", "inet", "certknock", "input")).contains("tcp dport 22 drop")
                .doesNotContain("reject");
        for (String golden : List.of("setup-reject.nft", "setup-drop.nft", "add.nft", "delete.nft", "flush.nft")) {
            nft.check(NftRendererTest.golden(golden));
        }
    }

    @Test
    void openAddsElementsAndReopenRefreshesWithoutDuplicating() throws Exception {
        NftablesFirewall fw = firewall(false, false, Clock.systemUTC());
        fw.start();
        Instant now = Instant.now();
        fw.open(decision("198.51.100.7", now.minusSeconds(50), 60, 1, "tcp/22", "tcp/8000-8100"));
        assertThat(elements(fw)).containsExactly("198.51.100.7 . tcp . 22", "198.51.100.7 . tcp . 8000-8100");
        assertThat(listed(fw, "198.51.100.7 . tcp . 22").orElseThrow().expires()).isLessThanOrEqualTo(Duration.ofSeconds(10));
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).contains("comment \"certknock s=1 i=");

        GrantDecision again = decision("198.51.100.7", Instant.now(), 60, 1, "tcp/22", "tcp/8000-8100");
        fw.open(again);
        assertThat(elements(fw)).containsExactly("198.51.100.7 . tcp . 22", "198.51.100.7 . tcp . 8000-8100");
        assertThat(listed(fw, "198.51.100.7 . tcp . 22").orElseThrow().expires()).isGreaterThanOrEqualTo(Duration.ofSeconds(55));
        assertThat(fw.active(Instant.now())).containsExactly(again);
    }

    @Test
    void theKernelExpiresAnElementByItself() throws Exception {
        NftablesFirewall fw = firewall(false, false, Clock.systemUTC());
        fw.start();
        long start = System.nanoTime();
        fw.open(decision("198.51.100.7", Instant.now(), 2, 1, "tcp/22"));
        assertThat(elements(fw)).containsExactly("198.51.100.7 . tcp . 22");
        fw.close(); // the server stops (keeping grants): from here on only the kernel acts
        long deadline = start + TimeUnit.SECONDS.toNanos(6);
        while (!elements(fw).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(elements(fw)).as("gone within 6 s").isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }

    @Test
    void closeCertificateRemovesExactlyItsElementsEvenWhenOneAlreadyExpired() throws Exception {
        MutableClock frozen = MutableClock.atSystemTime(); // the index never sees time pass
        NftablesFirewall fw = firewall(false, false, frozen);
        fw.start();
        fw.open(decision("198.51.100.7", frozen.instant(), 1, 1, "udp/51820"));
        fw.open(decision("198.51.100.7", frozen.instant(), 60, 1, "tcp/22"));
        fw.open(decision("2001:db8::7", frozen.instant(), 60, 1, "tcp/8000-8100"));
        fw.open(decision("198.51.100.8", frozen.instant(), 60, 2, "tcp/22"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (listed(fw, "198.51.100.7 . udp . 51820").isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(listed(fw, "198.51.100.7 . udp . 51820")).as("expired in the kernel").isEmpty();
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isEqualTo(3);
        assertThat(elements(fw)).containsExactly("198.51.100.8 . tcp . 22");
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.ONE)))).isZero();
    }

    @Test
    void ipv6ElementsOpenAndClose() throws Exception {
        NftablesFirewall fw = firewall(false, false, Clock.systemUTC());
        fw.start();
        fw.open(decision("2001:db8:0:0:0:0:0:7", Instant.now(), 60, 5, "tcp/22", "udp/8000-8100"));
        assertThat(nftOut("list", "set", "inet", "certknock", "allow6_port")).contains("2001:db8::7 . tcp . 22");
        assertThat(nftOut("list", "set", "inet", "certknock", "allow6")).contains("2001:db8::7 . udp . 8000-8100");
        assertThat(elements(fw)).containsExactly("2001:db8::7 . tcp . 22", "2001:db8::7 . udp . 8000-8100");
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.valueOf(5))))).isEqualTo(1);
        assertThat(elements(fw)).isEmpty();
    }

    @Test
    void aRestartedServerStillClosesARevokedCertificatesGrants() throws Exception {
        NftablesFirewall before = firewall(false, false, Clock.systemUTC());
        before.start();
        before.open(decision("198.51.100.7", Instant.now(), 60, 7, "tcp/22"));
        before.open(decision("198.51.100.8", Instant.now(), 60, 8, "tcp/22"));
        before.close(); // killed or stopped: grants stay
        NftablesFirewall after = firewall(false, false, Clock.systemUTC());
        after.start();
        assertThat(elements(after)).hasSize(2);
        assertThat(after.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.valueOf(7))))).isEqualTo(1);
        assertThat(elements(after)).containsExactly("198.51.100.8 . tcp . 22");
    }

    @Test
    void singlePortsGoToTheHashSetAndOnesLeftInTheIntervalSetByAnEarlierVersionAreStillRevoked() throws Exception {
        // The table as the earlier layout left it: single ports in the interval set allow4, no hash sets.
        nft.apply("table inet certknock {\n\tset allow4 {\n\t\ttype ipv4_addr . inet_proto . inet_service\n"
                + "\t\tflags interval, timeout\n\t}\n}\n"
                + "add element inet certknock allow4 { 198.51.100.7 . tcp . 22 timeout 60s expires 60s comment \""
                + NftablesFirewall.tag(CA, BigInteger.valueOf(7)) + "\" }\n");
        NftablesFirewall fw = firewall(false, false, Clock.systemUTC());
        fw.start(); // the upgrade: hash sets added, the old element kept
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).contains("198.51.100.7 . tcp . 22");
        fw.open(decision("198.51.100.8", Instant.now(), 60, 8, "tcp/22"));
        fw.open(decision("198.51.100.8", Instant.now(), 60, 8, "tcp/8000-8010"));
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4_port")).contains("198.51.100.8 . tcp . 22")
                .doesNotContain("8000-8010");
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).contains("198.51.100.8 . tcp . 8000-8010");
        assertThat(elements(fw)).containsExactlyInAnyOrder("198.51.100.7 . tcp . 22", "198.51.100.8 . tcp . 22",
                "198.51.100.8 . tcp . 8000-8010");

        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.valueOf(7))))).isEqualTo(1);
        assertThat(elements(fw)).containsExactlyInAnyOrder("198.51.100.8 . tcp . 22", "198.51.100.8 . tcp . 8000-8010");
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(CA, BigInteger.valueOf(8))))).as("its two grants").isEqualTo(2);
        assertThat(elements(fw)).isEmpty();
    }

    @Test
    void flushOnStopClosesEverything() throws Exception {
        NftablesFirewall fw = firewall(false, true, Clock.systemUTC());
        fw.start();
        fw.open(decision("198.51.100.7", Instant.now(), 60, 1, "tcp/22"));
        fw.open(decision("2001:db8::7", Instant.now(), 60, 1, "tcp/22"));
        fw.close();
        assertThat(elements(fw)).isEmpty();
        assertThat(nftOut("list", "chain", "inet", "certknock", "input")).contains("tcp dport 22 drop");
    }

    @Test
    void aBadBatchIsRefusedWholeWithNftsMessage() throws Exception {
        firewall(false, false, Clock.systemUTC()).start();
        try {
            nft.apply("add element inet certknock allow4 { 198.51.100.7 . tcp . 22 timeout 60s expires 60s }\n"
                    + "delete element inet certknock allow4 { 198.51.100.99 . tcp . 22 }\n");
            throw new AssertionError("the batch should have failed");
        } catch (FirewallException e) {
            assertThat(e.getMessage()).contains("exit status 1", "198.51.100.99");
        }
        assertThat(nftOut("list", "set", "inet", "certknock", "allow4")).doesNotContain("198.51.100.7");
    }

    // --- helpers

    String nftOut(String... args) throws FirewallException {
        return nft.query(List.of(args));
    }

    static String chain(String ruleset) {
        return ruleset.substring(ruleset.indexOf("chain input"));
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    /** The command's output, or empty when it cannot run or fails. */
    static Optional<String> quietly(List<String> command) {
        try {
            return Optional.of(run(command.toArray(String[]::new)));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
