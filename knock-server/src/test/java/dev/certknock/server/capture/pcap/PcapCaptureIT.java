package dev.certknock.server.capture.pcap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.certknock.server.netns.TestNetwork;
import dev.certknock.server.knock.ReceivedDatagram;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.pcap4j.core.Pcaps;

/**
 * Live capture against the real kernel. Runs only as root with iproute2's {@code ip} and a loadable libpcap;
 * otherwise every test reports as skipped with the reason.
 *
 * <p>Namespaces: pcap4j opens devices of the calling thread's network namespace, so the capture runs in a
 * child JVM started with {@code ip netns exec <server ns> java -cp <this classpath> PcapProbeMain} that prints
 * what it captured; the client sends from another child JVM in the client namespace ({@link NetnsClientMain}).
 * The two namespaces are joined by a veth pair with TEST-NET addresses (192.0.2.0/24, 2001:db8::/64) that
 * exist only inside them. Both namespaces are deleted in a finally, also on failure. The loopback test runs
 * in-process in the host namespace.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PcapCaptureIT {

    private static final HexFormat HEX = HexFormat.of();
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String SRV4 = "192.0.2.1";
    private static final String CLI4 = "192.0.2.2";
    private static final String SRV6 = "2001:db8::1";
    private static final String CLI6 = "2001:db8::2";
    private static final String SRV_MAC = "02:00:00:00:00:01";
    private static final String CLI_MAC = "02:00:00:00:00:02";
    private static final SecureRandom RANDOM = new SecureRandom();

    @BeforeAll
    static void requirements() {
        assumeThat(run(List.of("id", "-u")).trim()).as("PcapCaptureIT needs root (network namespaces, capture)")
                .isEqualTo("0");
        assumeThat(run(List.of("ip", "-V"))).as("PcapCaptureIT needs iproute2's 'ip'").contains("ip");
        String libpcap;
        try {
            libpcap = Pcaps.libVersion();
        } catch (LinkageError e) {
            libpcap = "not loadable: " + e.getMessage();
        }
        assumeThat(libpcap).as("PcapCaptureIT needs libpcap (apt-get install libpcap0.8)").startsWith("libpcap");
        String probe = "ckpcap-p-" + HEX.formatHex(randomBytes(4));
        namespacesWork = run(List.of("ip", "netns", "add", probe)).isBlank();
        run(List.of("ip", "netns", "del", probe));
    }

    private static boolean namespacesWork;

    @Test
    void capturesIpv4AndIpv6FromAnotherNamespaceAndIgnoresOtherPorts() throws Exception {
        try (Netns ns = Netns.create()) {
            int port = 30000 + RANDOM.nextInt(20000);
            byte[] p4 = knockShaped(200);
            byte[] p6 = knockShaped(300);
            byte[] notAKnock = randomBytes(300);
            notAKnock[0] = 0x7F; // no version the server reads: dropped in the kernel
            try (Probe probe = Probe.start(ns.server, "veth-srv", port)) {
                ns.client(udp(CLI4, 40001, SRV4, port, p4), udp(CLI6, 40002, SRV6, port, p6),
                        udp(CLI4, 40003, SRV4, port + 1, knockShaped(100)), udp(CLI6, 40004, SRV6, port + 1, knockShaped(100)),
                        udp(CLI4, 40005, SRV4, port, notAKnock), udp(CLI6, 40006, SRV6, port, notAKnock));
                List<String> got = List.of(probe.await("DATAGRAM"), probe.await("DATAGRAM"));
                assertThat(got).containsExactlyInAnyOrder(
                        "DATAGRAM " + CLI4 + " 40001 " + HEX.formatHex(p4),
                        "DATAGRAM " + InetAddress.getByName(CLI6).getHostAddress() + " 40002 " + HEX.formatHex(p6));
                List<String> rest = probe.stop();
                assertThat(rest).noneMatch(l -> l.startsWith("DATAGRAM"));
                assertThat(rest).anyMatch(l -> l.startsWith("STATS CaptureStats[frames=2, delivered=2, refusedBySink=0, skipped=0,"));
            }
        }
    }

    @Test
    void malformedFramesAreCountedAndTheCaptureGoesOn() throws Exception {
        try (Netns ns = Netns.create()) {
            int port = 30000 + RANDOM.nextInt(20000);
            byte[] valid = knockShaped(64);
            byte[] udpOk = Frames.udp(40010, port, knockShaped(64));
            byte[] badChecksum = Frames.ipv4(CLI4, SRV4, 17, udpOk);
            badChecksum[10] ^= 0x55;
            byte[] fragment = Frames.ipv4(CLI4, SRV4, 17, udpOk, new byte[0], 0x2000, -1);
            byte[] lengthMismatch = Frames.ipv4(CLI4, SRV4, 17, Frames.udp(40011, port, knockShaped(64), 8 + 63));
            byte[] v6LengthMismatch = Frames.ipv6(CLI6, SRV6, 17, Frames.udp(40012, port, knockShaped(64), 8 + 65));
            try (Probe probe = Probe.start(ns.server, "veth-srv", port)) {
                ns.client(raw(Frames.ethernet(0x0800, badChecksum)), raw(Frames.ethernet(0x0800, fragment)),
                        raw(Frames.ethernet(0x0800, lengthMismatch)), raw(Frames.ethernet(0x86DD, v6LengthMismatch)),
                        udp(CLI4, 40013, SRV4, port, valid));
                assertThat(probe.await("DATAGRAM")).isEqualTo("DATAGRAM " + CLI4 + " 40013 " + HEX.formatHex(valid));
                List<String> rest = probe.stop();
                assertThat(rest).contains("SKIPPED BAD_IP_HEADER 1", "SKIPPED IP_FRAGMENT 1", "SKIPPED LENGTH_MISMATCH 2");
                assertThat(rest).anyMatch(l -> l.startsWith("STATS CaptureStats[frames=5, delivered=1, refusedBySink=0, skipped=4,"));
            }
        }
    }

    @Test
    void aDeletedAndRecreatedInterfaceIsReopenedWithBackoff() throws Exception {
        try (Netns ns = Netns.create()) {
            int port = 30000 + RANDOM.nextInt(20000);
            byte[] after = knockShaped(90);
            try (Probe probe = Probe.start(ns.server, "veth-srv", port)) {
                for (int i = 0; i < 4; i++) {
                    byte[] before = knockShaped(80 + i);
                    ns.client(udp(CLI4, 40020 + i, SRV4, port, before));
                    assertThat(probe.await("DATAGRAM"))
                            .isEqualTo("DATAGRAM " + CLI4 + " " + (40020 + i) + " " + HEX.formatHex(before));
                }
                probe.command("STATS");
                long firstHandle = kernelReceived(probe.await("STATS"));
                assertThat(firstHandle).isGreaterThanOrEqualTo(4);
                Netns.ip("-n", ns.server, "link", "del", "veth-srv"); // takes veth-cli with it
                Thread.sleep(1000); // a few failed reopen attempts ("No such device exists")
                ns.link();
                long deadline = System.nanoTime() + WAIT.toNanos();
                String stats;
                do {
                    assertThat(System.nanoTime()).as("capture reopened within %s", WAIT).isLessThan(deadline);
                    Thread.sleep(100);
                    probe.command("STATS");
                    stats = probe.await("STATS");
                } while (!(stats.contains("reopens=1") && stats.contains("capturing=true")));
                ns.client(udp(CLI4, 40030, SRV4, port, after));
                assertThat(probe.await("DATAGRAM")).isEqualTo("DATAGRAM " + CLI4 + " 40030 " + HEX.formatHex(after));
                String last = probe.stop().stream().filter(l -> l.startsWith("STATS ")).reduce((a, b) -> b)
                        .orElseThrow();
                assertThat(last).startsWith("STATS CaptureStats[frames=5, delivered=5, refusedBySink=0, skipped=0,");
                // The kernel figures of the first handle are carried over, so the total exceeds them by at
                // least the knock the second handle saw. Not an exact figure: the kernel also counts frames
                // that reached a new socket before libpcap installed the filter (a fresh veth's IPv6 DAD and
                // MLD), which made an exact "kernelReceived=2" flaky (CI, 2026-12-05: 3).
                assertThat(kernelReceived(last)).as(last).isGreaterThanOrEqualTo(firstHandle + 1);
            }
        }
    }

    private static long kernelReceived(String stats) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("kernelReceived=(\\d+)").matcher(stats);
        assertThat(m.find()).as(stats).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void onLoopbackEachDatagramIsDeliveredOnceThoughTheKernelCountsItTwice() throws Exception {
        int port = 30000 + RANDOM.nextInt(20000);
        ConcurrentLinkedQueue<ReceivedDatagram> got = new ConcurrentLinkedQueue<>();
        List<byte[]> sent = new ArrayList<>();
        List<Integer> sourcePorts = new ArrayList<>();
        PcapCapture capture = new PcapCapture(PcapCapture.Settings.of("lo", port), Clock.systemUTC());
        try {
            capture.start(got::add);
            assertThat(capture.stats().capturing()).isTrue();
            for (String address : List.of("127.0.0.1", "::1")) {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0))) {
                    for (int i = 0; i < 10; i++) {
                        byte[] payload = knockShaped(80 + i);
                        s.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(address, port)));
                        s.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(address, port + 1)));
                        sent.add(payload);
                        sourcePorts.add(s.getLocalPort());
                    }
                }
            }
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got.size() < 20 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300); // a second copy would arrive by now
        } finally {
            capture.close();
        }
        assertThat(got).hasSize(20);
        List<ReceivedDatagram> list = new ArrayList<>(got);
        for (int i = 0; i < 20; i++) {
            assertThat(Payloads.of(list.get(i))).isEqualTo(sent.get(i));
            assertThat(list.get(i).source().getPort()).isEqualTo(sourcePorts.get(i));
            assertThat(list.get(i).source().getAddress().isLoopbackAddress()).isTrue();
        }
        CaptureStats stats = capture.stats();
        assertThat(stats.frames()).isEqualTo(20);
        assertThat(stats.delivered()).isEqualTo(20);
        assertThat(stats.kernelReceived()).as("lo: out and in copies both pass the kernel filter").isEqualTo(40);
        assertThat(stats.capturing()).isFalse();
        assertThat(capture.figures()).containsEntry("frames", 20L).containsEntry("delivered", 20L)
                .containsEntry("kernelReceived", 40L).containsEntry("kernelDropped", 0L);
    }

    @Test
    void aMissingInterfaceIsRetriedInTheBackgroundNotFatal() throws Exception {
        PcapCapture capture = new PcapCapture(PcapCapture.Settings.of("ckpcap-none0", 9)
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(200)), Clock.systemUTC());
        try {
            capture.start(d -> true);
            Thread.sleep(600);
            assertThat(capture.stats().capturing()).isFalse();
        } finally {
            long t0 = System.nanoTime();
            capture.close();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void withoutCapNetRawStartFailsClearly() throws Exception {
        assumeThat(run(List.of("setpriv", "--version"))).as("needs util-linux setpriv").contains("setpriv");
        List<String> cmd = List.of("setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--", TestNetwork.javaCommand(),
                "-cp", TestNetwork.classPath(), PcapProbeMain.class.getName(), "lo", "9", "20");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("START-FAILED no permission to capture on lo (needs root or CAP_NET_RAW)");
        assertThat(p.exitValue()).isEqualTo(4);
    }

    private static String udp(String src, int srcPort, String dst, int dstPort, byte[] payload) {
        return "udp," + src + "," + srcPort + "," + dst + "," + dstPort + "," + HEX.formatHex(payload);
    }

    private static String raw(byte[] frame) {
        return "raw,veth-cli," + HEX.formatHex(frame);
    }

    /** Random bytes with a knock's version and suite bytes, of a knock's length: what the capture filter lets in. */
    private static byte[] knockShaped(int n) {
        byte[] b = randomBytes(n);
        b[0] = 1;
        b[1] = 1;
        return b;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Runs a command to its end (bounded), returns stdout+stderr; a failure to start gives "". */
    static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }



    /** A server and a client namespace joined by a veth pair; deleted on close. */
    static final class Netns implements AutoCloseable {
        final String server;
        final String client;

        private Netns(String server, String client) {
            this.server = server;
            this.client = client;
        }

        static Netns create() {
            assumeThat(namespacesWork).as("network namespaces cannot be created here (ip netns add failed)").isTrue();
            String id = HEX.formatHex(randomBytes(4));
            Netns ns = new Netns("ckpcap-s-" + id, "ckpcap-c-" + id);
            boolean ok = false;
            try {
                ip("netns", "add", ns.server);
                ip("netns", "add", ns.client);
                ns.link();
                ok = true;
                return ns;
            } finally {
                if (!ok) {
                    ns.close();
                }
            }
        }

        /** (Re)creates the veth pair with its addresses; IPv6 without duplicate address detection. */
        void link() {
            ip("link", "add", "veth-srv", "netns", server, "address", SRV_MAC, "type", "veth",
                    "peer", "name", "veth-cli", "netns", client, "address", CLI_MAC);
            ip("-n", server, "addr", "add", SRV4 + "/24", "dev", "veth-srv");
            ip("-n", server, "addr", "add", SRV6 + "/64", "dev", "veth-srv", "nodad");
            ip("-n", client, "addr", "add", CLI4 + "/24", "dev", "veth-cli");
            ip("-n", client, "addr", "add", CLI6 + "/64", "dev", "veth-cli", "nodad");
            ip("-n", server, "link", "set", "veth-srv", "up");
            ip("-n", client, "link", "set", "veth-cli", "up");
        }

        /** Sends from the client namespace (see {@link NetnsClientMain}) and waits for it. */
        void client(String... items) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", client, TestNetwork.javaCommand(), "-cp", TestNetwork.classPath(),
                    NetnsClientMain.class.getName()));
            cmd.addAll(Arrays.asList(items));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("client finished").isTrue();
            assertThat(p.exitValue()).as("client: %s", out).isZero();
        }

        static void ip(String... args) {
            List<String> cmd = new ArrayList<>();
            cmd.add("ip");
            cmd.addAll(Arrays.asList(args));
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            // Deleting a namespace also deletes the veth end inside it, and so its peer.
            run(List.of("ip", "netns", "del", client));
            run(List.of("ip", "netns", "del", server));
        }
    }

    /** A {@link PcapProbeMain} in a namespace: its stdout lines, commands to its stdin. */
    static final class Probe implements AutoCloseable {
        private final Process process;
        private final Writer stdin;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private Probe(Process process) {
            this.process = process;
            this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l = r.readLine(); l != null; l = r.readLine()) {
                        lines.add(l);
                    }
                } catch (IOException e) {
                    lines.add("READ-FAILED " + e);
                }
                lines.add("EOF");
            }, "probe-reader");
            reader.setDaemon(true);
            reader.start();
        }

        static Probe start(String netns, String iface, int port) throws Exception {
            List<String> cmd = new ArrayList<>();
            if (netns != null) {
                cmd.addAll(List.of("ip", "netns", "exec", netns));
            }
            cmd.addAll(List.of(TestNetwork.javaCommand(), "-cp", TestNetwork.classPath(), PcapProbeMain.class.getName(), iface,
                    Integer.toString(port), "60"));
            Probe probe = new Probe(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
            String first = probe.await("");
            if (!first.equals("READY")) {
                probe.close();
                throw new AssertionError("probe did not start capturing: " + first);
            }
            return probe;
        }

        /** The next line starting with the prefix (lines before it are kept out); fails after {@link #WAIT}. */
        String await(String prefix) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                String l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (l == null) {
                    throw new AssertionError("no '" + prefix + "' line within " + WAIT);
                }
                if (l.equals("EOF") && !prefix.isEmpty()) {
                    throw new AssertionError("probe ended before a '" + prefix + "' line");
                }
                if (l.startsWith(prefix)) {
                    return l;
                }
            }
        }

        void command(String c) throws IOException {
            stdin.write(c + "\n");
            stdin.flush();
        }

        /** Waits a moment for stragglers, stops the probe and returns every line it printed since. */
        List<String> stop() throws Exception {
            Thread.sleep(300);
            command("STOP");
            List<String> rest = new ArrayList<>();
            for (String l = await(""); !l.equals("EOF"); l = await("")) {
                rest.add(l);
            }
            assertThat(rest).contains("CLOSED");
            return rest;
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
