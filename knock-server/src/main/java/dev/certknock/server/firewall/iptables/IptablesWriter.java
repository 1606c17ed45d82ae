package dev.certknock.server.firewall.iptables;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.server.event.LogText;
import dev.certknock.server.firewall.ElementChange;
import dev.certknock.server.firewall.ElementWriter;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.HeldElement;
import dev.certknock.server.firewall.HolderTags;
import dev.certknock.server.firewall.iptables.IptablesRenderer.Family;
import dev.certknock.server.grant.GrantElement;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.process.ProgramRunner;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code iptables} backend's writer, for hosts that still use iptables: grants are elements of an ipset with
 * per-element timeouts, matched by one rule in a chain certknock owns ({@link IptablesRenderer} says what is set
 * up). The kernel expires every grant on time, even if the server is killed.
 *
 * <p>Cost: a batch is one {@code ipset restore} process whatever its number of elements, ports and families. Setup
 * (at start) runs {@code ipset restore}, one {@code iptables-restore --noflush} per family, and one
 * {@code iptables -C} per family (plus {@code -I} when the jump is missing), so a restart leaves exactly one jump
 * and one copy of the rules.
 *
 * <p>ipset stores one entry per port ({@code hash:ip,port}): an element of a port range is one entry per port, and
 * an element of more than {@link IptablesSettings#maxPortsPerGrant()} ports is refused. Two elements may cover the
 * same port of one address (a single port and a range of two certificates): this writer keeps, per entry, the
 * elements that cover it, so the entry stays until the last of them is removed, with the latest expiry of those
 * that remain. At stop the rules stay in place (protected ports stay closed while the server is down).
 * {@link #uninstall()} removes everything.
 */
public final class IptablesWriter implements ElementWriter {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesWriter.class);
    private static final Pattern SAVED = Pattern.compile(
            "add (certknock[46]) ([0-9a-fA-F.:]+),(tcp|udp):([0-9]{1,5}) timeout ([0-9]+)(?: comment \"([^\"]*)\")?.*");

    /** One ipset entry: one address, protocol and port. */
    private record Slot(InetAddress address, Protocol protocol, int port) {
        IptablesRenderer.SetEntry entry() {
            return new IptablesRenderer.SetEntry(address, protocol, port, port);
        }
    }

    /** One element's claim on an entry: until when, and its comment. */
    private record Claim(Instant until, String comment) {
    }

    private final IptablesSettings settings;
    private final IptablesRenderer renderer;
    private final ProgramRunner runner;
    private final Clock clock;
    /** For each entry, the elements that cover it (claims past their time are dropped: the kernel expired them). */
    private final Map<Slot, Map<GrantElement, Claim>> slots = new HashMap<>();
    /** When {@link #slots} is next swept of expired claims (at most once a second, on a write). */
    private Instant nextSweep = Instant.MIN;

    /** The most output of {@code ipset save} read: about 20 times that of a full set of 65,536 entries. */
    static final int MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

    /** Runs the tools directly, 10 s per command. */
    public IptablesWriter(IptablesSettings settings, Clock clock) {
        this(settings, new ProcessRunner(List.of(), Duration.ofSeconds(10), MAX_OUTPUT_BYTES), clock);
    }

    /** @param runner runs the tools; its prefix may be {@code ip netns exec NAME} (tests) */
    public IptablesWriter(IptablesSettings settings, ProgramRunner runner, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.renderer = new IptablesRenderer(settings);
        this.runner = Objects.requireNonNull(runner, "runner");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Creates or reconciles everything; idempotent (running it again changes nothing). */
    @Override
    public void setUp() throws FirewallException {
        ProcessRunner.Result sets = execute(IptablesRenderer.ipsetRestore(), renderer.createSets());
        if (!sets.succeeded()) {
            String hint = sets.stderr().contains("already exists")
                    ? " (a set of that name exists with other parameters: after 'knock-server' stops, remove the"
                            + " certknock rules and run 'ipset destroy certknock4; ipset destroy certknock6')"
                    : "";
            throw new FirewallException("cannot create the ipsets: " + sets.describe() + hint, null);
        }
        for (Family f : renderer.families()) {
            check(IptablesRenderer.tablesRestore(f), renderer.chain(f), "cannot set up the " + f.tables() + " chain");
        }
        for (Family f : renderer.families()) {
            ProcessRunner.Result c = execute(IptablesRenderer.checkJump(f), null);
            if (c.exitCode() == 1) {
                check(IptablesRenderer.insertJump(f), null, "cannot insert the jump from INPUT");
                LOG.info("{}: INPUT now jumps to {} first", f.tables(), IptablesRenderer.CHAIN);
            } else if (!c.succeeded()) {
                throw new FirewallException("cannot check the jump from INPUT: " + c.describe(), null);
            }
        }
    }

    /**
     * One {@code ipset restore}: the entries no element covers any more are deleted, every other touched entry is
     * (re-)added with the latest expiry of the elements that cover it. ipset restore stops at the first line it
     * refuses; the entries this batch created before that are taken back.
     */
    @Override
    public void apply(List<ElementChange> batch) throws FirewallException {
        Instant now = clock.instant();
        sweep(now);
        Map<Slot, Map<GrantElement, Claim>> after = new LinkedHashMap<>();
        for (ElementChange c : batch) {
            GrantElement el = c.element();
            Family family = Family.of(el.address());
            if (family == Family.V6 && !settings.ipv6()) {
                throw new FirewallException("IPv6 is disabled in the iptables backend; cannot open "
                        + AddressText.format(el.address()), null);
            }
            PortGrant g = el.ports();
            if (c instanceof ElementChange.Add && g.portCount() > settings.maxPortsPerGrant()) {
                throw new FirewallException("an element of " + g.portCount() + " ports is more than the "
                        + settings.maxPortsPerGrant() + " the iptables backend opens at once (ipset holds one entry per"
                        + " port): grant smaller ranges or raise maxPortsPerGrant", null);
            }
            for (int p = g.firstPort(); p <= g.lastPort(); p++) {
                Slot s = new Slot(el.address(), g.protocol(), p);
                Map<GrantElement, Claim> claims = after.computeIfAbsent(s, k -> live(slots.get(k), now));
                if (c instanceof ElementChange.Add a) {
                    claims.put(el, new Claim(now.plus(a.expires()), a.comment()));
                } else {
                    claims.remove(el);
                }
            }
        }
        StringBuilder deletes = new StringBuilder();
        StringBuilder adds = new StringBuilder();
        List<Slot> fresh = new ArrayList<>();
        for (Map.Entry<Slot, Map<GrantElement, Claim>> e : after.entrySet()) {
            Claim latest = latestOf(e.getValue());
            Slot s = e.getKey();
            if (latest == null) {
                deletes.append(renderer.delete(List.of(s.entry())));
                continue;
            }
            Duration left = Duration.between(now, latest.until());
            long seconds = Math.max(1, left.toSeconds() + (left.toNanosPart() > 0 ? 1 : 0));
            try {
                adds.append(renderer.add(List.of(s.entry()), Math.min(seconds, IptablesRenderer.MAX_TIMEOUT_SECONDS),
                        latest.comment()));
            } catch (IllegalArgumentException ex) {
                throw new FirewallException("cannot open " + AddressText.format(s.address()) + " " + s.protocol().label()
                        + "/" + s.port() + ": " + ex.getMessage(), ex);
            }
            // add -exist replaces an entry's timeout and comment in place (checked with ipset 7.17): another holder
            // coming to name the entry needs no delete, so it is never missing for a moment
            if (live(slots.get(s), now).isEmpty()) {
                fresh.add(s);
            }
        }
        String script = deletes.toString() + adds;
        if (script.isEmpty()) {
            return;
        }
        ProcessRunner.Result r = execute(IptablesRenderer.ipsetRestore(), script);
        if (!r.succeeded()) {
            if (!fresh.isEmpty()) {
                StringBuilder undo = new StringBuilder();
                fresh.forEach(s -> undo.append(renderer.delete(List.of(s.entry()))));
                ProcessRunner.Result u = execute(IptablesRenderer.ipsetRestore(), undo.toString());
                if (!u.succeeded()) {
                    LOG.warn("could not take back a partly applied batch (its entries expire on their own): {}",
                            LogText.of(u.describe()));
                }
            }
            throw new FirewallException("ipset restore refused a batch of " + batch.size() + " change(s): "
                    + r.describe(), null);
        }
        after.forEach((s, claims) -> {
            if (claims.isEmpty()) {
                slots.remove(s);
            } else {
                slots.put(s, claims);
            }
        });
    }

    /** The claims still in force (a copy); the kernel has dropped an entry whose every claim is past. */
    private static Map<GrantElement, Claim> live(Map<GrantElement, Claim> claims, Instant now) {
        Map<GrantElement, Claim> out = new LinkedHashMap<>();
        if (claims != null) {
            claims.forEach((el, c) -> {
                if (c.until().isAfter(now)) {
                    out.put(el, c);
                }
            });
        }
        return out;
    }

    /** Forgets entries whose claims are all past, so the record stays as large as what the kernel holds. */
    private void sweep(Instant now) {
        if (now.isBefore(nextSweep)) {
            return;
        }
        nextSweep = now.plusSeconds(1);
        slots.values().forEach(claims -> claims.values().removeIf(c -> !c.until().isAfter(now)));
        slots.values().removeIf(Map::isEmpty);
    }

    /** Entries recorded now (tests: the record does not grow with entries the kernel expired). */
    int recordedEntries() {
        return slots.size();
    }

    private static Claim latestOf(Map<GrantElement, Claim> claims) {
        Claim latest = null;
        for (Claim c : claims.values()) {
            if (latest == null || c.until().isAfter(latest.until())) {
                latest = c;
            }
        }
        return latest;
    }

    /** The entries in both sets, one element per port, each with its timeout and comment (left by an earlier run). */
    @Override
    public List<HeldElement> list() throws FirewallException {
        Instant now = clock.instant();
        List<HeldElement> held = new ArrayList<>();
        for (Family f : renderer.families()) {
            ProcessRunner.Result saved = check(IptablesRenderer.ipsetSave(f), null, "cannot list " + f.set());
            if (saved.stdoutTruncated()) {
                throw new FirewallException("'ipset save " + f.set() + "' printed more than it can read; its entries"
                        + " could not all be read back", null);
            }
            for (String line : saved.stdout().split("\n")) {
                Matcher m = SAVED.matcher(line.strip());
                if (!m.matches()) {
                    continue;
                }
                Slot slot;
                try {
                    slot = new Slot(InetAddress.getByName(m.group(2)), Protocol.parse(m.group(3)),
                            Integer.parseInt(m.group(4)));
                } catch (UnknownHostException | IllegalArgumentException e) {
                    LOG.warn("ignoring an unreadable element of {}: {}", f.set(), LogText.of(line));
                    continue;
                }
                Duration left = Duration.ofSeconds(Long.parseLong(m.group(5)));
                GrantElement el = new GrantElement(slot.address(), PortGrant.single(slot.protocol(), slot.port()));
                // a comment not of ours is not written back (it would not pass the renderer)
                String comment = HolderTags.parse(m.group(6)).isEmpty() ? null : m.group(6);
                slots.computeIfAbsent(slot, k -> new LinkedHashMap<>()).put(el, new Claim(now.plus(left), comment));
                held.add(new HeldElement(el, left, m.group(6)));
            }
        }
        return held;
    }

    @Override
    public boolean expiresByItself() {
        return true;
    }

    /** Nothing to warm: every batch is a new ipset process. */
    @Override
    public void warmUp() {
    }

    /** Empties the sets (every grant closes; established connections stay). */
    @Override
    public void removeAll() throws FirewallException {
        check(IptablesRenderer.ipsetRestore(), renderer.flushSets(), "cannot empty the grant sets");
        slots.clear();
    }

    @Override
    public String describe() {
        return "backend iptables, chain " + IptablesRenderer.CHAIN + " with sets " + renderer.families().stream()
                .map(Family::set).toList() + " (" + (settings.reject() ? "rejecting" : "dropping") + " "
                + settings.protectedPorts() + "), one ipset restore per batch";
    }

    @Override
    public void close() {
    }

    /**
     * Removes everything certknock set up: every jump from INPUT to the chain, the chain, and the sets (all
     * grants close). Running it when nothing is there is not an error.
     */
    public void uninstall() throws FirewallException {
        for (Family f : renderer.families()) {
            for (int i = 0; i < 16 && execute(IptablesRenderer.checkJump(f), null).succeeded(); i++) {
                check(IptablesRenderer.deleteJump(f), null, "cannot delete the jump from INPUT");
            }
            check(IptablesRenderer.tablesRestore(f), renderer.removeChain(), "cannot delete the " + f.tables()
                    + " chain");
        }
        for (Family f : renderer.families()) {
            if (execute(List.of("ipset", "list", "-n", f.set()), null).succeeded()) {
                check(IptablesRenderer.ipsetRestore(), "destroy " + f.set() + "\n", "cannot delete " + f.set());
            }
        }
        slots.clear();
    }

    private ProcessRunner.Result check(List<String> argv, String stdin, String what) throws FirewallException {
        ProcessRunner.Result r = execute(argv, stdin);
        if (!r.succeeded()) {
            throw new FirewallException(what + ": " + r.describe(), null);
        }
        return r;
    }

    private ProcessRunner.Result execute(List<String> argv, String stdin) throws FirewallException {
        try {
            return runner.run(argv, stdin);
        } catch (ProcessRunner.RunException e) {
            String hint = e.getMessage().startsWith("could not start")
                    ? " (the iptables backend needs ipset, iptables and ip6tables: apt-get install ipset iptables)"
                    : "";
            throw new FirewallException(e.getMessage() + hint, e);
        }
    }
}
