package dev.certknock.server.firewall.iptables;

import dev.certknock.server.grant.TestHolders;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.testing.time.MutableClock;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the backend runs, and in which order, without root: the runner's prefix is a fake tool that records
 * each command line and each batch, and answers from files the test writes. The real tools are exercised
 * by {@code IptablesFirewallIT}.
 */
class IptablesFirewallTest {

    private static final X500Principal ISSUER = new X500Principal("CN=test CA");
    private static final X500Principal ALICE = new X500Principal("CN=alice");
    private static final X500Principal BOB = new X500Principal("CN=bob");
    private static final Instant T0 = Instant.parse("2031-05-04T10:00:00Z");

    @TempDir
    Path dir;
    private ProcessRunner runner;
    private final MutableClock clock = MutableClock.at(T0);
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
    private final IptablesSettings settings = IptablesSettings.of(62201, List.of(PortGrant.parse("tcp/22")));

    @BeforeEach
    void fakeTools() throws IOException {
        Path fake = dir.resolve("fake-tool.sh");
        Files.writeString(fake, """
                #!/bin/sh
                d=$(dirname "$0")
                echo "$*" >> "$d/calls.log"
                key=$(echo "$*" | tr ' ' '_')
                if [ "$2" = restore ] || [ "$2" = -w ]; then
                  if [ "$2" = restore ] || [ "$3" = --noflush ]; then cat >> "$d/batches.log"; echo "--" >> "$d/batches.log"; fi
                fi
                if [ -f "$d/out.$key" ]; then cat "$d/out.$key"; fi
                if [ -f "$d/once.$key" ]; then rc=$(cat "$d/once.$key"); rm "$d/once.$key"; echo "failed by test" >&2; exit "$rc"; fi
                if [ -f "$d/rc.$key" ]; then exit "$(cat "$d/rc.$key")"; fi
                exit 0
                """);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        runner = new ProcessRunner(List.of("/bin/sh", fake.toString()), Duration.ofSeconds(5));
    }

    private void answer(String kind, String commandLine, String content) throws IOException {
        Files.writeString(dir.resolve(kind + "." + commandLine.replace(' ', '_')), content);
    }

    private List<String> calls() throws IOException {
        Path p = dir.resolve("calls.log");
        return Files.exists(p) ? Files.readAllLines(p) : List.of();
    }

    private List<String> batches() throws IOException {
        Path p = dir.resolve("batches.log");
        if (!Files.exists(p)) {
            return List.of();
        }
        return Arrays.stream(Files.readString(p).split("--\n")).toList();
    }

    private void forget() throws IOException {
        Files.deleteIfExists(dir.resolve("calls.log"));
        Files.deleteIfExists(dir.resolve("batches.log"));
    }

    private IptablesFirewall start(IptablesSettings s) throws FirewallException {
        return IptablesFirewall.start(s, runner, clock, listener);
    }

    private GrantDecision grant(String address, Duration d, X500Principal subject, long serial, String... grants)
            throws IOException {
        return TestHolders.decision(InetAddress.getByName(address), Arrays.stream(grants).map(PortGrant::parse).toList(),
                d, clock.instant(), subject, ISSUER, BigInteger.valueOf(serial));
    }

    @Test
    void setupRunsBatchesAndInsertsTheJumpOnlyWhenMissing() throws Exception {
        answer("rc", "iptables -w -C INPUT -j CERTKNOCK", "1");
        IptablesRenderer r = new IptablesRenderer(settings);
        start(settings);
        assertThat(calls()).containsExactly("ipset restore", "iptables-restore -w --noflush",
                "ip6tables-restore -w --noflush", "iptables -w -C INPUT -j CERTKNOCK",
                "iptables -w -I INPUT 1 -j CERTKNOCK", "ip6tables -w -C INPUT -j CERTKNOCK", "ipset save certknock4",
                "ipset save certknock6");
        assertThat(batches()).containsExactly(r.createSets(), r.chain(IptablesRenderer.Family.V4),
                r.chain(IptablesRenderer.Family.V6));
    }

    @Test
    void aGrantIsOneIpsetProcessWhateverItsSize() throws Exception {
        IptablesFirewall fw = start(settings);
        forget();
        GrantDecision d = grant("192.0.2.1", Duration.ofMillis(29_500), ALICE, 0x1f, "tcp/22", "udp/8000-8100");
        fw.open(d);
        String comment = IptablesRenderer.comment(ISSUER, BigInteger.valueOf(0x1f));
        assertThat(calls()).containsExactly("ipset restore");
        assertThat(batches()).containsExactly(
                "add certknock4 192.0.2.1,tcp:22 timeout 30 comment \"" + comment + "\" -exist\n"
                        + "add certknock4 192.0.2.1,udp:8000-8100 timeout 30 comment \"" + comment + "\" -exist\n");
        assertThat(fw.active(clock.instant())).containsExactly(d);
        assertThat(events).containsExactly("opened CN=alice");
    }

    @Test
    void reopenIsTheSameAddWhichRefreshesInTheKernel() throws Exception {
        IptablesFirewall fw = start(settings);
        forget();
        fw.open(grant("2001:db8::7", Duration.ofSeconds(30), ALICE, 1, "tcp/22"));
        clock.advance(Duration.ofSeconds(20));
        GrantDecision again = grant("2001:db8::7", Duration.ofSeconds(30), ALICE, 1, "tcp/22");
        fw.open(again);
        assertThat(batches()).hasSize(2).allMatch(b -> b.startsWith("add certknock6 2001:db8::7,tcp:22 timeout 30 "));
        clock.advance(Duration.ofSeconds(15));
        assertThat(fw.active(clock.instant())).containsExactly(again);
        clock.advance(Duration.ofSeconds(15));
        assertThat(fw.active(clock.instant())).isEmpty();
        assertThat(events).containsExactly("opened CN=alice", "opened CN=alice", "closed CN=alice expired");
    }

    @Test
    void tooManyPortsAreRefusedBeforeAnythingRuns() throws Exception {
        IptablesFirewall fw = start(settings);
        forget();
        assertThatThrownBy(() -> fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, 1, "tcp/1-1000",
                "udp/1-25"))).isInstanceOf(FirewallException.class).hasMessageContaining("1025 ports")
                .hasMessageContaining("1024");
        assertThat(calls()).isEmpty();
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, 1, "tcp/1-1000", "udp/1-24"));
    }

    @Test
    void fullSetIsRefused() throws Exception {
        IptablesFirewall fw = start(settings.withMaxElements(3));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, 1, "tcp/22-23"));
        assertThatThrownBy(() -> fw.open(grant("192.0.2.2", Duration.ofSeconds(30), ALICE, 1, "tcp/22-23")))
                .hasMessageContaining("certknock4 is full (3 entries)");
        // another family has its own set
        fw.open(grant("2001:db8::2", Duration.ofSeconds(30), ALICE, 1, "tcp/22-23"));
        // expired entries make room
        clock.advance(Duration.ofSeconds(31));
        fw.open(grant("192.0.2.2", Duration.ofSeconds(30), ALICE, 1, "tcp/22-23"));
    }

    @Test
    void failedAddIsReportedAndWhatItAddedIsTakenBack() throws Exception {
        IptablesFirewall fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(30), ALICE, 1, "tcp/22"));
        forget();
        answer("once", "ipset restore", "1");
        assertThatThrownBy(() -> fw.open(grant("192.0.2.1", Duration.ofSeconds(30), BOB, 2, "tcp/21-23")))
                .isInstanceOf(FirewallException.class).hasMessageContaining("exited with 1: failed by test");
        // tcp/22 belonged to alice's grant already: only 21 and 23 are taken back
        assertThat(batches().get(1)).isEqualTo("del certknock4 192.0.2.1,tcp:21 -exist\n"
                + "del certknock4 192.0.2.1,tcp:23 -exist\n");
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(ALICE);
    }

    @Test
    void expiredGrantIsRefused() throws Exception {
        IptablesFirewall fw = start(settings);
        GrantDecision d = grant("192.0.2.1", Duration.ofSeconds(5), ALICE, 1, "tcp/22");
        clock.advance(Duration.ofSeconds(5));
        assertThatThrownBy(() -> fw.open(d)).hasMessageContaining("expired");
    }

    @Test
    void closeCertificateDeletesOnlyItsElementsMergedIntoRanges() throws Exception {
        IptablesFirewall fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, 5, "tcp/8000-8010", "udp/53"));
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), BOB, 6, "tcp/8005"));
        fw.open(grant("2001:db8::9", Duration.ofSeconds(60), ALICE, 5, "tcp/22"));
        forget();
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isEqualTo(2);
        assertThat(calls()).containsExactly("ipset restore");
        // bob re-granted 8005 for himself: it stays open
        assertThat(batches().get(0).lines().sorted().toList()).containsExactly(
                "del certknock4 192.0.2.1,tcp:8000-8004 -exist", "del certknock4 192.0.2.1,tcp:8006-8010 -exist",
                "del certknock4 192.0.2.1,udp:53 -exist", "del certknock6 2001:db8::9,tcp:22 -exist");
        assertThat(fw.active(clock.instant())).extracting(GrantDecision::subject).containsExactly(BOB);
        assertThat(events).containsSubsequence("closed CN=alice revoked", "closed CN=alice revoked");
        forget();
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isZero();
        assertThat(fw.closeCertificate(new X500Principal("CN=other CA"), BigInteger.valueOf(6))).isZero();
        assertThat(calls()).isEmpty();
    }

    @Test
    void failedDeleteKeepsTheGrantsSoARetryCanWork() throws Exception {
        IptablesFirewall fw = start(settings);
        fw.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, 5, "tcp/22"));
        answer("once", "ipset restore", "2");
        assertThatThrownBy(() -> fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5)))))
                .hasMessageContaining("revoked certificate serial 5").hasMessageContaining("exited with 2");
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isEqualTo(1);
    }

    @Test
    void elementsLeftFromBeforeARestartAreClosedOnRevocation() throws Exception {
        String alice = IptablesRenderer.comment(ISSUER, BigInteger.valueOf(5));
        String bob = IptablesRenderer.comment(ISSUER, BigInteger.valueOf(6));
        answer("out", "ipset save certknock4", """
                create certknock4 hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x1
                add certknock4 192.0.2.1,tcp:8001 timeout 29 comment "%s"
                add certknock4 192.0.2.1,tcp:8000 timeout 29 comment "%s"
                add certknock4 192.0.2.1,tcp:22 timeout 299 comment "%s"
                add certknock4 192.0.2.9,tcp:22 timeout 50 comment "someone else's"
                add certknock4 192.0.2.8,tcp:22 timeout 50
                """.formatted(alice, alice, bob));
        answer("out", "ipset save certknock6", """
                create certknock6 hash:ip,port family inet6 hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x2
                add certknock6 2001:db8::1,udp:53 timeout 39 comment "%s"
                """.formatted(alice));
        IptablesFirewall fw = start(settings);
        assertThat(fw.active(clock.instant())).isEmpty();
        forget();
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(5))))).isEqualTo(2);
        assertThat(batches().get(0).lines().sorted().toList()).containsExactly(
                "del certknock4 192.0.2.1,tcp:8000-8001 -exist", "del certknock6 2001:db8::1,udp:53 -exist");
        // bob's recovered element expires by the clock like any other: nothing left to delete after 299 s
        clock.advance(Duration.ofSeconds(300));
        assertThat(fw.revoke(java.util.Set.of(TestHolders.ref(ISSUER, BigInteger.valueOf(6))))).isZero();
    }

    @Test
    void closeKeepsRulesAndGrantsUnlessFlushIsConfigured() throws Exception {
        IptablesFirewall keep = start(settings);
        keep.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, 5, "tcp/22"));
        forget();
        keep.close();
        assertThat(calls()).isEmpty();
        assertThatThrownBy(() -> keep.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, 5, "tcp/22")))
                .hasMessageContaining("closed");

        IptablesFirewall flush = start(settings.withFlushOnClose(true));
        flush.open(grant("192.0.2.1", Duration.ofSeconds(60), ALICE, 5, "tcp/22"));
        forget();
        flush.close();
        assertThat(calls()).containsExactly("ipset restore");
        assertThat(batches()).containsExactly("flush certknock4\nflush certknock6\n");
        assertThat(events).contains("closed CN=alice stopped");
    }

    @Test
    void ipv4OnlySetsUpOneFamilyAndRefusesIpv6Grants() throws Exception {
        IptablesFirewall fw = start(settings.withIpv6(false));
        assertThat(calls()).noneMatch(c -> c.startsWith("ip6tables")).doesNotContain("ipset save certknock6");
        assertThatThrownBy(() -> fw.open(grant("2001:db8::1", Duration.ofSeconds(60), ALICE, 5, "tcp/22")))
                .hasMessageContaining("IPv6 is disabled");
    }

    @Test
    void setupFailuresSayWhatToDo() throws Exception {
        answer("once", "ipset restore", "1");
        assertThatThrownBy(() -> start(settings)).isInstanceOf(FirewallException.class)
                .hasMessageContaining("cannot create the ipsets");
        answer("rc", "ip6tables -w -C INPUT -j CERTKNOCK", "4");
        assertThatThrownBy(() -> start(settings)).hasMessageContaining("cannot check the jump from INPUT");
        ProcessRunner nowhere = new ProcessRunner(List.of("/nonexistent/certknock-tools"), Duration.ofSeconds(5));
        assertThatThrownBy(() -> IptablesFirewall.start(settings, nowhere, clock, listener))
                .hasMessageContaining("apt-get install ipset iptables");
    }

    @Test
    void uninstallDeletesEveryJumpThenTheChainsThenTheSets() throws Exception {
        IptablesFirewall fw = start(settings);
        forget();
        answer("rc", "ipset list -n certknock6", "1");
        answer("once", "iptables -w -C INPUT -j CERTKNOCK", "0");
        answer("rc", "iptables -w -C INPUT -j CERTKNOCK", "1");
        answer("rc", "ip6tables -w -C INPUT -j CERTKNOCK", "1");
        fw.uninstall();
        assertThat(calls()).containsExactly("iptables -w -C INPUT -j CERTKNOCK", "iptables -w -D INPUT -j CERTKNOCK",
                "iptables -w -C INPUT -j CERTKNOCK", "iptables-restore -w --noflush",
                "ip6tables -w -C INPUT -j CERTKNOCK", "ip6tables-restore -w --noflush", "ipset list -n certknock4",
                "ipset restore", "ipset list -n certknock6");
        assertThat(batches()).containsExactly("*filter\n:CERTKNOCK - [0:0]\n-X CERTKNOCK\nCOMMIT\n",
                "*filter\n:CERTKNOCK - [0:0]\n-X CERTKNOCK\nCOMMIT\n", "destroy certknock4\n");
    }
}
