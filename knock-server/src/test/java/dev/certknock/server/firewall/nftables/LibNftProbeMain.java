package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.firewall.ElementChange;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.grant.GrantElement;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * The in-namespace side of {@link LibNftExecutorIT}, run with {@code ip netns exec}: libnftables acts on the
 * namespace of the process that calls it, so the test JVM (in the host's namespace) must never call it.
 * Prints one {@code key=value} line per step for the test to check.
 */
public final class LibNftProbeMain {

    private LibNftProbeMain() {
    }

    public static void main(String[] args) throws Exception {
        LibNftExecutor nft = LibNftExecutor.load().orElse(null);
        System.out.println("loaded=" + (nft != null));
        if (nft == null) {
            return;
        }
        try (nft) {
            NftRenderer renderer = new NftRenderer("certknock");
            NftSettings settings = new NftSettings("certknock", 62201, List.of(PortGrant.parse("tcp/8000-8100")), false,
                    List.of());
            nft.apply(renderer.setup(settings));
            NftEntry checked = entry("192.0.2.10", "tcp/8001");
            nft.check(renderer.add(List.of(checked)));
            System.out.println("afterCheck=" + elements(nft));
            nft.apply(renderer.add(List.of(entry("192.0.2.11", "tcp/8002"), entry("2001:db8::11", "tcp/8003-8004"))));
            System.out.println("afterApply=" + elements(nft));
            // A batch whose second line is refused: nothing of it may be applied.
            String bad = renderer.add(List.of(entry("192.0.2.12", "tcp/8005")))
                    + "add element inet certknock no_such_set { 192.0.2.13 . tcp . 8006 }\n";
            try {
                nft.apply(bad);
                System.out.println("badBatch=accepted");
            } catch (FirewallException e) {
                System.out.println("badBatch=refused " + e.getMessage().replace('\n', ' '));
            }
            System.out.println("afterBad=" + elements(nft));
        }
        writer();
    }

    /**
     * The backend's writer in-process: its element changes go over netlink (docs/DESIGN.md D38), its listing through
     * libnftables, so each step's outcome is read back by the other party.
     */
    private static void writer() throws Exception {
        NftSettings settings = new NftSettings("ckwriter", 62201, List.of(PortGrant.parse("tcp/8000-8100")), false,
                List.of());
        NftWriter w = new NftWriter(settings);
        try {
            System.out.println("writerDescribe=" + w.describe());
            w.setUp();
            w.apply(List.of(add("192.0.2.21", "tcp/8001", 60, "ck1 aaaa"), add("192.0.2.22", "tcp/8002-8003", 60, null),
                    add("2001:db8::21", "udp/8004", 60, "ck1 bbbb"), add("2001:db8::22", "tcp/8005-8009", 60, "ck1 cccc")));
            System.out.println("writerAdded=" + held(w));
            // a change of holder: deleted and added in one batch, the comment now the new one's
            w.apply(List.of(new ElementChange.Remove(grant("192.0.2.21", "tcp/8001")), add("192.0.2.21", "tcp/8001", 30,
                    "ck1 dddd")));
            // deletes of an element present and of one absent (the kernel expired it): both succeed, as one batch
            w.apply(List.of(new ElementChange.Remove(grant("192.0.2.22", "tcp/8002-8003")),
                    new ElementChange.Remove(grant("192.0.2.99", "tcp/8001"))));
            System.out.println("writerChanged=" + held(w));
            // a batch the kernel refuses: written for a table that does not exist; nothing of it may be applied
            NftWriter other = new NftWriter(new NftSettings("nosuchtable", 62201, settings.protect(), false, List.of()));
            try {
                other.apply(List.of(add("192.0.2.23", "tcp/8001", 60, null)));
                System.out.println("writerRefused=accepted");
            } catch (FirewallException e) {
                System.out.println("writerRefused=" + e.getMessage());
            } finally {
                other.close();
            }
            System.out.println("writerAfterRefused=" + held(w));
            // dry runs over the same netlink socket (the batch without its end, as nft -c sends it): the kernel checks
            // and answers each change and writes nothing; a change it would refuse fails the dry run
            long t0 = System.nanoTime();
            w.check(List.of(add("192.0.2.31", "tcp/8001", 60, "ck1 eeee"), add("2001:db8::31", "tcp/8005-8006", 60, null),
                    new ElementChange.Remove(grant("192.0.2.21", "tcp/8001"))));
            w.warmUp();
            System.out.println("writerCheckMillis=" + (System.nanoTime() - t0) / 1_000_000);
            System.out.println("writerAfterCheck=" + held(w));
            NftWriter refusing = new NftWriter(new NftSettings("nosuchtable", 62201, settings.protect(), false, List.of()));
            try {
                refusing.check(List.of(add("192.0.2.32", "tcp/8001", 60, null)));
                System.out.println("writerCheckRefused=accepted");
            } catch (FirewallException e) {
                System.out.println("writerCheckRefused=" + e.getMessage());
            } finally {
                refusing.close();
            }
        } finally {
            w.close();
        }
    }

    private static GrantElement grant(String address, String ports) throws Exception {
        return new GrantElement(InetAddress.getByName(address), PortGrant.parse(ports));
    }

    private static ElementChange add(String address, String ports, int seconds, String comment) throws Exception {
        Duration d = Duration.ofSeconds(seconds);
        return new ElementChange.Add(grant(address, ports), d, d, comment, null);
    }

    private static List<String> held(NftWriter w) throws FirewallException {
        return w.list().stream().map(h -> h.element().address().getHostAddress() + " " + h.element().ports() + " "
                + h.comment() + " " + (h.expires().getSeconds() > 20 ? "long" : "short")).sorted().toList();
    }

    private static NftEntry entry(String address, String grant) throws Exception {
        return new NftEntry(new NftElement(InetAddress.getByName(address), PortGrant.parse(grant)),
                Duration.ofSeconds(60), Duration.ofSeconds(60), "certknock probe");
    }

    private static List<String> elements(NftExecutor nft) throws FirewallException {
        return NftListing.parse(nft.query(new NftRenderer("certknock").listArguments()), "certknock").stream()
                .map(l -> l.element().toString()).sorted().toList();
    }
}
