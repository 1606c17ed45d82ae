package dev.certknock.benchmarks.netns;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.nftables.NftSettings;
import dev.certknock.server.firewall.GrantLedger;
import dev.certknock.server.firewall.nftables.NftWriter;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.Holder;
import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.security.auth.x500.X500Principal;

/**
 * The cost of one grant in the nftables backend as the number of open elements grows, run by
 * {@code benchmarks/netns/open-cost.sh} with {@code ip netns exec} inside a network namespace of its own (the
 * backend talks to the kernel of the namespace it runs in; no packet is sent). The writer is made as the server
 * makes it, so grants go over its own netlink socket (docs/DESIGN.md D38) when libnftables loads; the path is
 * printed first. The backend opens grants one
 * at a time, single-threaded, as the pipeline's workers call it: each grant a fresh address from
 * 198.18.0.0/15 with one single port, or, with {@code ranges=true}, a port range. At each checkpoint it times
 * {@code probe} more opens and prints the mean and the 99th percentile per open; between checkpoints it
 * fills the set up to the next size with the same calls (not timed).
 *
 * Before the first checkpoint, {@code warmup} opens (default 2000) go to a table of their own, emptied after, so
 * that the figure at 0 open elements is not the JIT's first calls.
 *
 * <pre>  NftOpenCostBench sizes=0,1000,10000,100000 probe=1000 [warmup=2000] [ranges=true]</pre>
 */
public final class NftOpenCostBench {

    private NftOpenCostBench() {
    }

    public static void main(String[] argv) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        int probe = 1000;
        boolean ranges = false;
        int warmup = 2000;
        for (String a : argv) {
            if (a.startsWith("sizes=")) {
                for (String s : a.substring(6).split(",")) {
                    sizes.add(Integer.parseInt(s));
                }
            } else if (a.startsWith("probe=")) {
                probe = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("warmup=")) {
                warmup = Integer.parseInt(a.substring(7));
            } else if (a.startsWith("ranges=")) {
                ranges = Boolean.parseBoolean(a.substring(7));
            } else {
                throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (sizes.isEmpty()) {
            sizes = List.of(0, 1000, 10_000, 100_000);
        }
        Clock clock = Clock.systemUTC();
        PortGrant grant = ranges ? PortGrant.parse("tcp/8000-8099") : PortGrant.parse("tcp/22");
        X500Principal ca = new X500Principal("CN=open-cost CA");
        if (warmup > 0) {
            // The same calls in a table of their own, emptied after: the first checkpoint then times an open into an
            // empty set with the JIT as warm as at the later ones, not the JIT's first calls (warmup=0 shows those).
            try (GrantLedger warm = new GrantLedger(new NftWriter(new NftSettings("certknock_warmup", 62202,
                    List.of(PortGrant.parse("tcp/1-65535")), false, List.of())),
                    new GrantLedger.Settings(1_000_000, 1_000_000, true), clock, new KnockEventListener() {
                    }).start()) {
                for (int i = 0; i < warmup; i++) {
                    warm.open(decision(i, grant, ca, clock));
                }
            }
            System.err.println("# warm-up: " + warmup + " opens in table inet certknock_warmup, emptied after");
        }
        // The writer as the server makes it (KnockServer): in-process, grants over its own netlink socket (D38) when
        // libnftables loads and the socket opens; the path taken is printed and kept in the JSON.
        NftWriter writer = new NftWriter(new NftSettings("certknock", 62201, List.of(PortGrant.parse("tcp/1-65535")),
                false, List.of()));
        String path = writer.describe();
        boolean inProcess = path.contains("in-process");
        boolean netlink = path.endsWith("grants over netlink");
        System.err.println("# writer: " + path);
        // limits above anything this bench opens: it measures the cost of an open, not the limits
        GrantLedger firewall = new GrantLedger(writer, new GrantLedger.Settings(1_000_000, 1_000_000, true), clock,
                new KnockEventListener() {
                }).start();
        int opened = 0;
        StringBuilder json = new StringBuilder("{\"mode\":\"open-cost\",\"ranges\":" + ranges + ",\"in_process\":"
                + inProcess + ",\"netlink\":" + netlink + ",\"warmup\":" + warmup
                + ",\"points\":[");
        try {
            for (int size : sizes) {
                while (opened < size) {
                    firewall.open(decision(opened++, grant, ca, clock));
                }
                long[] nanos = new long[probe];
                for (int i = 0; i < probe; i++) {
                    GrantDecision d = decision(opened++, grant, ca, clock);
                    long t0 = System.nanoTime();
                    firewall.open(d);
                    nanos[i] = System.nanoTime() - t0;
                }
                java.util.Arrays.sort(nanos);
                double mean = java.util.Arrays.stream(nanos).average().orElse(0) / 1e3;
                double p99 = nanos[(int) Math.ceil(0.99 * nanos.length) - 1] / 1e3;
                System.err.printf(Locale.ROOT, "%8d open elements: %8.1f us per open (p99 %8.1f us)%n", size, mean, p99);
                json.append(String.format(Locale.ROOT, "%s{\"open\":%d,\"mean_us\":%.1f,\"p99_us\":%.1f}",
                        json.charAt(json.length() - 1) == '[' ? "" : ",", size, mean, p99));
            }
        } finally {
            firewall.close();
        }
        System.out.println(json.append("]}"));
    }

    /** A stand-in key id for the bench's CA (a CA key id is 32 hex digits). */
    private static final String CA_KEY_ID = "0123456789abcdef0123456789abcdef";

    private static GrantDecision decision(int n, PortGrant grant, X500Principal ca, Clock clock)
            throws UnknownHostException, FirewallException {
        // 198.18.0.0/15 holds 131,072 addresses; beyond that the same addresses are refreshed.
        int offset = n % (1 << 17);
        byte[] address = ByteBuffer.allocate(4).putInt((198 << 24 | 18 << 16) + offset).array();
        BigInteger serial = BigInteger.valueOf(n % 100 + 1);
        return new GrantDecision(InetAddress.getByAddress(address), List.of(grant), Duration.ofSeconds(600),
                clock.instant(), new Holder(new X500Principal("CN=user " + (n % 100)), ca,
                        List.of(new CertRef(CA_KEY_ID, serial))));
    }
}
