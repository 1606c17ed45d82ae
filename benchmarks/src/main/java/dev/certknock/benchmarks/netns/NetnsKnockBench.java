package dev.certknock.benchmarks.netns;

import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.client.knock.KnockClient;
import dev.certknock.client.knock.KnockOptions;
import dev.certknock.client.knock.KnockTarget;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The sending side of {@code benchmarks/netns/run.sh}, run with {@code ip netns exec} in the sender's namespace.
 * It only ever sends to the server address it is given, which the script puts inside a namespace it created.
 * Every loop is bounded in count and in time.
 *
 * <pre>
 *   latency    count=N sources=A/K port=P        one knock at a time, each from a fresh source address, timed from
 *                                               just before sendto to the first TCP probe (1 ms apart) that connects
 *                                               (knock_ms: each, in order; at_ms: when each was sent, from the first)
 *   throughput count=N sources=A/K port=P        seals N distinct knocks, then sends them back to back, round robin
 *              audit=FILE server_pid=PID        over the K source addresses; grants/s from the server's audit log
 *              [share=true]                     (grant-opened lines), CPU from /proc/PID/stat (process and children);
 *                                               one client per address, or with share=true the clients in turn
 *   flood      kind=random|wellformed|spoofed    junk from flood_sources=A/K (spoofed: from the victims' own address,
 *              ...                              at spoofed_rate per second) while knocks=N valid knocks are timed as in
 *                                               latency, paced pace_ms apart (knock_ms: each, in order)
 * </pre>
 *
 * Common arguments: server=ADDRESS knock_port=PORT tcp_port=PORT server_cert=PEM bundles=P12[,P12...]
 * password_file=FILE. Each mode prints one JSON object on standard output. An address range {@code A/K} is K
 * consecutive IPv4 addresses starting at A.
 */
public final class NetnsKnockBench {

    private static final int PROBE_MILLIS = 1;
    /** USER_HZ: 100 on every Linux architecture this runs on (getconf CLK_TCK). */
    private static final int TICKS_PER_SECOND = 100;
    private static final Pattern TIME = Pattern.compile("\"time\":\"([^\"]+)\"");
    private static final long KNOCK_TIMEOUT_NANOS = 2_000_000_000L;

    private final Map<String, String> args;
    private final InetSocketAddress knockTo;
    private final InetAddress server;
    private final int tcpPort;
    private final List<KnockClient> clients = new ArrayList<>();

    private NetnsKnockBench(Map<String, String> args) throws Exception {
        this.args = args;
        this.server = InetAddress.getByName(required("server"));
        this.knockTo = new InetSocketAddress(server, Integer.parseInt(required("knock_port")));
        this.tcpPort = Integer.parseInt(required("tcp_port"));
        X509Certificate serverCert;
        try (InputStream in = Files.newInputStream(Path.of(required("server_cert")))) {
            serverCert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        char[] password = Files.readAllLines(Path.of(required("password_file")), StandardCharsets.UTF_8).get(0)
                .toCharArray();
        KnockTarget target = KnockTarget.of(server.getHostAddress(), serverCert).withKnockPort(knockTo.getPort());
        for (String bundle : required("bundles").split(",")) {
            clients.add(KnockClient.builder(ClientIdentity.fromPkcs12(Path.of(bundle), password), target).build());
        }
        Arrays.fill(password, '\0');
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length < 1) {
            System.err.println("usage: NetnsKnockBench latency|throughput|flood key=value ...");
            System.exit(2);
        }
        Map<String, String> args = new HashMap<>();
        for (int i = 1; i < argv.length; i++) {
            int eq = argv[i].indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("not key=value: " + argv[i]);
            }
            args.put(argv[i].substring(0, eq), argv[i].substring(eq + 1));
        }
        NetnsKnockBench bench = new NetnsKnockBench(args);
        String json = switch (argv[0]) {
            case "latency" -> bench.latency();
            case "throughput" -> bench.throughput();
            case "flood" -> bench.flood();
            default -> throw new IllegalArgumentException("unknown mode " + argv[0]);
        };
        System.out.println(json);
    }

    private String required(String key) {
        String v = args.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + key + "=");
        }
        return v;
    }

    private int intArg(String key, int fallback) {
        String v = args.get(key);
        return v == null ? fallback : Integer.parseInt(v);
    }

    /** Knocks one at a time, each from a fresh address, and times each until the port answers. */
    private String latency() throws Exception {
        List<InetAddress> sources = range(required("sources"));
        int count = Math.min(intArg("count", sources.size()), sources.size());
        int port = intArg("port", tcpPort);
        long[] nanos = new long[count];
        long[] at = new long[count];
        int opened = 0;
        warmUpSender(sources.get(count - 1), port);
        long first = 0;
        for (int i = 0; i < count; i++) {
            byte[] datagram = seal(clients.get(i % clients.size()), port, sources.get(i));
            if (i == 0) {
                System.err.println("first knock sent at " + Instant.now());
                first = System.nanoTime();
            }
            at[i] = System.nanoTime() - first;
            nanos[i] = knockAndProbe(sources.get(i), datagram, port);
            if (nanos[i] >= 0) {
                opened++;
            }
        }
        return "{\"mode\":\"latency\",\"knocks\":" + count + ",\"opened\":" + opened
                + ",\"first_ms\":" + ms(nanos[0]) + "," + percentiles(nanos) + ",\"knock_ms\":["
                + Arrays.stream(nanos).mapToObj(NetnsKnockBench::ms).collect(Collectors.joining(",")) + "],\"at_ms\":["
                + Arrays.stream(at).mapToObj(NetnsKnockBench::ms).collect(Collectors.joining(",")) + "]}";
    }

    /** Seals count distinct knocks, then sends them back to back, round robin over the source addresses. */
    private String throughput() throws Exception {
        List<InetAddress> sources = range(required("sources"));
        int count = Integer.parseInt(required("count"));
        int port = intArg("port", tcpPort);
        long t0 = System.nanoTime();
        byte[][] datagrams = IntStream.range(0, count).parallel()
                .mapToObj(i -> sealUnchecked(clientOf(i, sources.size()), port, sources.get(i % sources.size())))
                .toArray(byte[][]::new);
        long sealed = System.nanoTime();
        Path audit = Path.of(required("audit"));
        long serverPid = Long.parseLong(required("server_pid"));
        int before = grantLines(audit).size();
        List<DatagramChannel> channels = bind(sources);
        long cpuBefore;
        long wallStart;
        long sent;
        try {
            cpuBefore = cpuTicks(serverPid);
            wallStart = System.currentTimeMillis();
            long sendStart = System.nanoTime();
            for (int i = 0; i < count; i++) {
                channels.get(i % channels.size()).send(ByteBuffer.wrap(datagrams[i]), knockTo);
            }
            sent = System.nanoTime() - sendStart;
        } finally {
            closeAll(channels);
        }
        // Waits until every knock is granted, or 5 s pass without a new grant (bounded either way).
        List<Long> grants = grantLines(audit);
        long lastProgress = System.nanoTime();
        int seen = grants.size();
        while (grants.size() - before < count && System.nanoTime() - lastProgress < 5_000_000_000L) {
            sleepNanos(20_000_000L);
            grants = grantLines(audit);
            if (grants.size() > seen) {
                seen = grants.size();
                lastProgress = System.nanoTime();
            }
        }
        long cpuAfter = cpuTicks(serverPid);
        List<Long> phase = grants.subList(before, grants.size());
        int granted = phase.size();
        long lastGrant = phase.isEmpty() ? wallStart : phase.get(phase.size() - 1);
        double seconds = Math.max(1, lastGrant - wallStart) / 1000.0;
        double cpuMillis = (cpuAfter - cpuBefore) * 1000.0 / TICKS_PER_SECOND;
        return String.format(Locale.ROOT, "{\"mode\":\"throughput\",\"sent\":%d,\"sources\":%d,\"granted\":%d,"
                + "\"seconds\":%.3f,\"grants_per_s\":%.0f,\"cpu_ms\":%.0f,\"cpu_ms_per_grant\":%.3f,"
                + "\"seal_ms\":%s,\"send_ms\":%s}", count, sources.size(), granted, seconds, granted / seconds,
                cpuMillis, granted == 0 ? Double.NaN : cpuMillis / granted, ms(sealed - t0), ms(sent));
    }

    /**
     * The client of the i-th knock, sent from source {@code i % sources}: always the same one per address (one user
     * per address, as behind most addresses), unless {@code share=true}: then the clients take turns (the i-th knock
     * is client {@code i % clients}), so that at each address most knocks change the holder of an element another
     * certificate holds, as users behind one NAT address would.
     */
    private KnockClient clientOf(int i, int sources) {
        if (Boolean.parseBoolean(args.getOrDefault("share", "false"))) {
            return clients.get(i % clients.size());
        }
        return clients.get((i % sources) % clients.size());
    }

    /** The times (epoch milliseconds) of the audit log's grant-opened lines, in file order. */
    private static List<Long> grantLines(Path audit) throws IOException {
        List<Long> out = new ArrayList<>();
        if (!Files.exists(audit)) {
            return out;
        }
        for (String line : Files.readAllLines(audit, StandardCharsets.UTF_8)) {
            if (line.contains("\"event\":\"grant-opened\"")) {
                Matcher m = TIME.matcher(line);
                if (m.find()) {
                    out.add(Instant.parse(m.group(1)).toEpochMilli());
                }
            }
        }
        return out;
    }

    /** utime + stime + cutime + cstime of a process (fields 14-17 of /proc/PID/stat), in clock ticks. */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        // after the command name: field 3 (state) is f[0], so field N is f[N - 3]
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }

    /**
     * Valid knocks, timed as in {@link #latency()}, while a junk stream runs: random bytes or well-formed junk
     * (a valid knock with one ciphertext bit flipped) from many sources at full speed, or well-formed junk at a
     * fixed rate from the victims' own addresses (as a spoofer would send it).
     */
    private String flood() throws Exception {
        String kind = required("kind");
        List<InetAddress> victims = range(required("victims"));
        int knocks = intArg("knocks", 20);
        int paceMillis = intArg("pace_ms", 250);
        int firstPort = intArg("port", tcpPort);
        int ports = intArg("ports", 1);
        long floodLimit = Long.parseLong(args.getOrDefault("flood_max", "3000000"));
        byte[] template = seal(clients.get(0), firstPort, victims.get(0));
        List<InetAddress> floodSources = kind.equals("spoofed") ? victims : range(required("flood_sources"));
        int spoofedRate = intArg("spoofed_rate", 100);
        List<DatagramChannel> floodChannels = bind(floodSources);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong floodSent = new AtomicLong();
        Thread flooder = new Thread(() -> {
            SplittableRandom random = new SplittableRandom(7);
            byte[] junk = template.clone();
            long start = System.nanoTime();
            try {
                while (!stop.get() && floodSent.get() < floodLimit
                        && System.nanoTime() - start < 120_000_000_000L) {
                    long n = floodSent.get();
                    if (kind.equals("random")) {
                        for (int j = 0; j < junk.length; j++) {
                            junk[j] = (byte) random.nextInt(256);
                        }
                    } else {
                        System.arraycopy(template, 0, junk, 0, junk.length);
                        junk[junk.length - 1 - random.nextInt(16)] ^= (byte) (1 << random.nextInt(8));
                        junk[junk.length - 40 - random.nextInt(200)] ^= 1;
                    }
                    floodChannels.get((int) (n % floodChannels.size())).send(ByteBuffer.wrap(junk), knockTo);
                    floodSent.incrementAndGet();
                    if (kind.equals("spoofed")) {
                        long due = start + (n + 1) * 1_000_000_000L / spoofedRate;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                    }
                }
            } catch (IOException e) {
                System.err.println("flood stopped: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "flood");
        long[] nanos = new long[knocks];
        int opened = 0;
        long floodStart = System.nanoTime();
        flooder.start();
        try {
            Thread.sleep(500); // the flood is at full rate before the first valid knock
            for (int i = 0; i < knocks; i++) {
                long due = System.nanoTime() + paceMillis * 1_000_000L;
                int port = firstPort + i % ports;
                InetAddress victim = victims.get(i % victims.size());
                nanos[i] = knockAndProbe(victim, seal(clients.get(i % clients.size()), port, victim), port);
                if (nanos[i] >= 0) {
                    opened++;
                }
                if (!flooder.isAlive()) {
                    throw new IllegalStateException("the flood ended before knock " + (i + 1) + " of " + knocks
                            + "; raise flood_max");
                }
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000);
                }
            }
        } finally {
            stop.set(true);
            flooder.join();
            closeAll(floodChannels);
        }
        double floodSeconds = (System.nanoTime() - floodStart) / 1e9;
        return String.format(Locale.ROOT, "{\"mode\":\"flood\",\"kind\":\"%s\",\"flood_sources\":%d,"
                + "\"flood_packets\":%d,\"flood_pps\":%.0f,\"knocks\":%d,\"opened\":%d,\"within_50ms\":%d,%s,"
                + "\"knock_ms\":[%s]}",
                kind, floodSources.size(), floodSent.get(), floodSent.get() / floodSeconds, knocks, opened,
                Arrays.stream(nanos).filter(n -> n >= 0 && n <= 50_000_000L).count(), percentiles(nanos),
                Arrays.stream(nanos).mapToObj(NetnsKnockBench::ms).collect(Collectors.joining(",")));
    }

    /**
     * Runs the sender's own send-and-probe path before the first timed knock, so the first figure is the server's
     * and not this JVM's first socket calls: datagrams to the discard port of this namespace's loopback (never to the
     * server), refused probes to a closed loopback port, and probes from {@code source} (not yet granted) that the
     * server's firewall drops.
     */
    private void warmUpSender(InetAddress source, int port) throws IOException {
        InetSocketAddress discard = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
        InetSocketAddress closed = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
        for (int i = 0; i < 20; i++) {
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                ch.send(ByteBuffer.wrap(new byte[64]), discard);
            }
            for (InetSocketAddress to : List.of(closed, new InetSocketAddress(server, port))) {
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress(to == closed ? InetAddress.getLoopbackAddress() : source, 0));
                    s.connect(to, PROBE_MILLIS);
                } catch (IOException e) {
                    // refused (loopback) or dropped (the server's firewall): what the timed probes meet first
                }
            }
        }
    }

    /**
     * Sends the datagram from the source address and probes the TCP port from the same address every
     * millisecond; the nanoseconds from just before sendto to the first connect that succeeds, or -1 after 2 s.
     */
    private long knockAndProbe(InetAddress source, byte[] datagram, int port) throws IOException {
        InetSocketAddress probeTo = new InetSocketAddress(server, port);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(source, 0));
            long t0 = System.nanoTime();
            ch.send(ByteBuffer.wrap(datagram), knockTo);
            while (System.nanoTime() - t0 < KNOCK_TIMEOUT_NANOS) {
                long attempt = System.nanoTime();
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress(source, 0));
                    s.connect(probeTo, PROBE_MILLIS);
                    return System.nanoTime() - t0;
                } catch (SocketTimeoutException e) {
                    // dropped: try again
                } catch (IOException e) {
                    // refused or reset: the firewall answered nothing useful yet; wait out the millisecond
                    long left = PROBE_MILLIS * 1_000_000L - (System.nanoTime() - attempt);
                    if (left > 0) {
                        sleepNanos(left);
                    }
                }
            }
            return -1;
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A knock v2 for tcp/port that declares (signs) the address it will be sent from. */
    private static byte[] seal(KnockClient client, int port, InetAddress from) throws Exception {
        return client.prepare(List.of(PortGrant.single(Protocol.TCP, port)),
                KnockOptions.defaults().withDurationSeconds(60).withDeclaredAddress(from)).datagram();
    }

    private static byte[] sealUnchecked(KnockClient client, int port, InetAddress from) {
        try {
            return seal(client, port, from);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<DatagramChannel> bind(List<InetAddress> sources) throws IOException {
        List<DatagramChannel> channels = new ArrayList<>();
        try {
            for (InetAddress a : sources) {
                DatagramChannel ch = DatagramChannel.open();
                channels.add(ch);
                ch.bind(new InetSocketAddress(a, 0));
            }
        } catch (IOException | RuntimeException e) {
            closeAll(channels);
            throw e;
        }
        return channels;
    }

    private static void closeAll(List<DatagramChannel> channels) {
        for (DatagramChannel ch : channels) {
            try {
                ch.close();
            } catch (IOException e) {
                // closing a datagram channel has nothing to flush
            }
        }
    }

    /** {@code A/K}: K consecutive IPv4 addresses from A. */
    static List<InetAddress> range(String spec) throws UnknownHostException {
        String[] f = spec.split("/");
        byte[] start = InetAddress.getByName(f[0]).getAddress();
        if (start.length != 4 || f.length != 2) {
            throw new IllegalArgumentException("an address range is IPv4/count: " + spec);
        }
        long base = ByteBuffer.wrap(start).getInt() & 0xffffffffL;
        List<InetAddress> out = new ArrayList<>();
        for (int i = 0; i < Integer.parseInt(f[1]); i++) {
            out.add(InetAddress.getByAddress(ByteBuffer.allocate(4).putInt((int) (base + i)).array()));
        }
        return out;
    }

    private static String percentiles(long[] nanos) {
        long[] ok = Arrays.stream(nanos).filter(n -> n >= 0).sorted().toArray();
        if (ok.length == 0) {
            return "\"p50_ms\":null,\"p90_ms\":null,\"p99_ms\":null,\"max_ms\":null";
        }
        return "\"p50_ms\":" + ms(rank(ok, 50)) + ",\"p90_ms\":" + ms(rank(ok, 90)) + ",\"p99_ms\":"
                + ms(rank(ok, 99)) + ",\"max_ms\":" + ms(ok[ok.length - 1]);
    }

    /** Nearest-rank percentile of sorted values. */
    private static long rank(long[] sorted, int percent) {
        int index = (int) Math.ceil(percent / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static String ms(long nanos) {
        return nanos < 0 ? "null" : String.format(Locale.ROOT, "%.2f", nanos / 1e6);
    }
}
