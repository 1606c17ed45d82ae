package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.firewall.FirewallException;
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
