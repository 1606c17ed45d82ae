package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.server.event.LogText;
import dev.certknock.server.firewall.ElementChange;
import dev.certknock.server.firewall.ElementWriter;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.HeldElement;
import dev.certknock.server.grant.GrantElement;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code nftables} backend's writer. Grants are elements of the sets of the server's own {@code inet} table,
 * each with a timeout: the kernel closes every grant on time by itself, even if the server is killed. Single ports
 * go into plain hash sets ({@code allow4_port}, {@code allow6_port}), whose adds cost the same however many
 * elements are open; ranges into interval sets ({@code allow4}, {@code allow6}). Every batch is one atomic
 * transaction.
 *
 * <p>The kernel is reached in-process through libnftables ({@link LibNftExecutor}) when it can be loaded,
 * otherwise through one {@code nft} process per batch; {@link #describe()} says which, for the start-up log.
 */
public final class NftWriter implements ElementWriter {

    private static final Logger LOG = LoggerFactory.getLogger(NftWriter.class);

    private final NftSettings settings;
    private final NftExecutor executor;
    private final NftRenderer renderer;
    /**
     * Elements listed in a legacy place (a single port in an interval set, where versions before the hash sets put
     * them): their deletes search every set they may be in, until one succeeds. Every other delete goes to the
     * element's own set only: a delete in an interval set makes the kernel rebuild its whole lookup structure.
     */
    private final Set<NftElement> legacy = new HashSet<>();
    /**
     * The grant path's writer when the kernel is reached in-process: element changes go over a netlink socket of
     * their own, encoded as nft encodes them, instead of through a libnftables run each (docs/DESIGN.md D38). Null
     * when the executor is not in-process (its command prefix may enter another namespace) or no socket opens.
     */
    private final NftNetlink netlink;

    public NftWriter(NftSettings settings, NftExecutor executor) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.renderer = new NftRenderer(settings.table());
        this.netlink = executor instanceof LibNftExecutor ? NftNetlink.open(settings.table()).orElse(null) : null;
    }

    /**
     * Talks to the kernel in-process through libnftables when it can be loaded and no command prefix is set;
     * otherwise runs {@code nft} as a child process per batch, after the settings' command prefix.
     */
    public NftWriter(NftSettings settings) {
        this(settings, executorFor(settings));
    }

    private static NftExecutor executorFor(NftSettings settings) {
        if (settings.commandPrefix().isEmpty()) {
            Optional<LibNftExecutor> lib = LibNftExecutor.load();
            if (lib.isPresent()) {
                return lib.get();
            }
        }
        return new ProcessNftExecutor(settings.commandPrefix());
    }

    /** Creates the table or reconciles it with the settings, idempotently; elements in the sets are kept. */
    @Override
    public void setUp() throws FirewallException {
        executor.apply(renderer.setup(settings));
    }

    @Override
    public void apply(List<ElementChange> batch) throws FirewallException {
        if (netlink == null || !netlink.apply(changes(batch))) {
            String script = render(batch);
            if (!script.isEmpty()) {
                executor.apply(script);
            }
        }
        if (!legacy.isEmpty()) {
            for (ElementChange c : batch) {
                if (c instanceof ElementChange.Remove) {
                    legacy.remove(new NftElement(c.element().address(), c.element().ports()));
                }
            }
        }
    }

    /** A dry run of the batch ({@code nft -c}): the kernel checks it, nothing changes. */
    @Override
    public void check(List<ElementChange> batch) throws FirewallException {
        // Over the grant path's own socket when there is one (the kernel checks and aborts: nothing is written), so a
        // rehearsal's dry runs take the path real grants take; otherwise nft's dry run.
        if (netlink == null || !netlink.check(changes(batch))) {
            String script = render(batch);
            if (!script.isEmpty()) {
                executor.check(script);
            }
        }
    }

    @Override
    public boolean hasDryRun() {
        return true;
    }

    /**
     * The batch as netlink messages, in the order and grouping of {@link #render}'s script: deletes of elements that
     * may be in a legacy place (each set's elements added with a 1 s timeout, then deleted: absent either way), the
     * other deletes, then the adds (one per key, the last timing winning), by set.
     */
    List<NftSetElementBatch.Change> changes(List<ElementChange> batch) {
        List<NftSetElementBatch.Change> out = new ArrayList<>();
        Set<NftElement> everywhere = new LinkedHashSet<>();
        Set<NftElement> ownSet = new LinkedHashSet<>();
        Map<NftElement, NftSetElementBatch.Item> adds = new LinkedHashMap<>();
        for (ElementChange c : batch) {
            NftElement element = new NftElement(c.element().address(), c.element().ports());
            if (c instanceof ElementChange.Add a) {
                NftEntry checked = new NftEntry(element, a.timeout(), a.expires(), a.comment()); // validates
                adds.remove(element);
                adds.put(element, new NftSetElementBatch.Item(element, checked.timeout(), checked.expires(),
                        checked.comment()));
            } else {
                (legacy.contains(element) ? everywhere : ownSet).add(element);
            }
        }
        deletes(out, everywhere, true);
        deletes(out, ownSet, false);
        Map<String, List<NftSetElementBatch.Item>> bySet = new LinkedHashMap<>();
        for (String set : NftElement.SETS) {
            bySet.put(set, new ArrayList<>());
        }
        adds.values().forEach(i -> bySet.get(i.element().set()).add(i));
        bySet.forEach((set, items) -> chunks(out, true, set, items));
        return out;
    }

    private static void deletes(List<NftSetElementBatch.Change> out, Set<NftElement> elements, boolean everywhere) {
        Map<String, List<NftElement>> bySet = new LinkedHashMap<>();
        for (NftElement e : elements) {
            for (String set : everywhere ? e.setsToSearch() : List.of(e.set())) {
                bySet.computeIfAbsent(set, k -> new ArrayList<>()).add(e);
            }
        }
        bySet.forEach((set, list) -> {
            chunks(out, true, set, list.stream()
                    .map(e -> new NftSetElementBatch.Item(e, Duration.ofSeconds(1), null, null)).toList());
            chunks(out, false, set, list.stream().map(e -> new NftSetElementBatch.Item(e, null, null, null)).toList());
        });
    }

    private static void chunks(List<NftSetElementBatch.Change> out, boolean add, String set,
            List<NftSetElementBatch.Item> items) {
        for (int from = 0; from < items.size(); from += NftSetElementBatch.MAX_ITEMS) {
            out.add(new NftSetElementBatch.Change(add, set,
                    items.subList(from, Math.min(items.size(), from + NftSetElementBatch.MAX_ITEMS))));
        }
    }

    private String render(List<ElementChange> batch) {
        List<NftElement> removes = new ArrayList<>();
        List<NftEntry> adds = new ArrayList<>();
        for (ElementChange c : batch) {
            NftElement element = new NftElement(c.element().address(), c.element().ports());
            if (c instanceof ElementChange.Add a) {
                adds.add(new NftEntry(element, a.timeout(), a.expires(), a.comment()));
            } else {
                removes.add(element);
            }
        }
        List<NftElement> everywhere = new ArrayList<>();
        List<NftElement> ownSet = new ArrayList<>();
        for (NftElement e : removes) {
            (legacy.contains(e) ? everywhere : ownSet).add(e);
        }
        return renderer.delete(everywhere) + renderer.deleteFromOwnSet(ownSet) + renderer.add(adds);
    }

    @Override
    public List<HeldElement> list() throws FirewallException {
        List<HeldElement> held = new ArrayList<>();
        List<NftListing.Listed> listed = kernelElements();
        legacy.clear();
        for (NftListing.Listed l : listed) {
            if (l.inLegacyPlace()) {
                legacy.add(l.element());
            }
        }
        for (NftListing.Listed l : listed) {
            held.add(new HeldElement(new GrantElement(l.element().address(), l.element().ports()), l.expires(),
                    l.comment()));
        }
        return held;
    }

    /** Every element the kernel holds in the grant sets now, including those opened before a restart. */
    public List<NftListing.Listed> kernelElements() throws FirewallException {
        String json = executor.query(renderer.listArguments());
        try {
            return NftListing.parse(json, settings.table());
        } catch (IllegalArgumentException e) {
            throw new FirewallException("cannot read the listing of table inet " + settings.table() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public boolean expiresByItself() {
        return true;
    }

    /**
     * A dry run ({@code nft -c}) of adding one element of each family and of each set kind, so the first real grant
     * does not pay for loading and caching what nft needs; the same over the grant path's netlink socket when there is
     * one (the kernel checks and aborts). Changes nothing.
     */
    @Override
    public void warmUp() {
        try {
            List<NftEntry> probe = new ArrayList<>();
            for (byte[] any : List.of(new byte[4], new byte[16])) {
                InetAddress a = InetAddress.getByAddress(any);
                for (PortGrant p : List.of(PortGrant.single(Protocol.TCP, 9), new PortGrant(Protocol.TCP, 9, 10))) {
                    probe.add(new NftEntry(new NftElement(a, p), Duration.ofSeconds(1), Duration.ofSeconds(1),
                            "ck1 0000000000000000"));
                }
            }
            executor.check(renderer.add(probe));
            if (netlink != null) {
                List<NftSetElementBatch.Item> items = probe.stream()
                        .map(e -> new NftSetElementBatch.Item(e.element(), e.timeout(), e.expires(), e.comment())).toList();
                List<NftSetElementBatch.Change> changes = new ArrayList<>();
                for (NftSetElementBatch.Item i : items) {
                    changes.add(new NftSetElementBatch.Change(true, i.element().set(), List.of(i)));
                }
                netlink.check(changes);
            }
        } catch (FirewallException | UnknownHostException | IllegalArgumentException e) {
            LOG.debug("nftables warm-up dry run failed (grants are unaffected): {}", LogText.of(e.getMessage()));
        }
    }

    /** Empties the grant sets (every grant closes now); the table and its rules stay, so protected ports stay closed. */
    @Override
    public void removeAll() throws FirewallException {
        executor.apply(renderer.flushSets());
    }

    @Override
    public String describe() {
        String how;
        if (executor instanceof LibNftExecutor) {
            how = netlink != null ? "in-process through libnftables, grants over netlink"
                    : "in-process through libnftables";
        } else if (executor instanceof ProcessNftExecutor) {
            how = settings.commandPrefix().isEmpty()
                    ? "one nft process per batch (libnftables.so.1 cannot be loaded; install libnftables1)"
                    : "one nft process per batch, through " + String.join(" ", settings.commandPrefix());
        } else {
            how = executor.getClass().getSimpleName();
        }
        return "backend nftables, table inet " + settings.table() + " (input priority " + NftRenderer.PRIORITY
                + ", knock port udp/" + settings.knockPort() + " dropped, " + (settings.reject() ? "rejecting" : "dropping")
                + " " + settings.protect() + "), " + how;
    }

    @Override
    public void close() {
        if (netlink != null) {
            netlink.close();
        }
        if (executor instanceof LibNftExecutor lib) {
            lib.close();
        }
    }
}
