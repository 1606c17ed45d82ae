package dev.certknock.server.firewall.iptables;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.event.LogText;
import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.firewall.iptables.IptablesRenderer.Family;
import dev.certknock.server.firewall.iptables.IptablesRenderer.SetEntry;
import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code iptables} backend, for hosts that still use iptables: grants are elements of an ipset with
 * per-element timeouts, matched by one rule in a chain certknock owns ({@link IptablesRenderer} says what is
 * set up). The kernel expires every grant on time, even if the server is killed.
 *
 * <p>Cost: a grant is one {@code ipset restore} process whatever its number of ports and families (not one
 * {@code iptables} call per rule); a revocation is one more. A repeated knock re-adds with {@code -exist},
 * which refreshes the timeout: nothing is ever duplicated. Setup (at start) runs {@code ipset restore}, one
 * {@code iptables-restore --noflush} per family, and one {@code iptables -C} per family (plus {@code -I} when
 * the jump is missing), so a restart leaves exactly one jump and one copy of the rules.
 *
 * <p>Every element's comment names its certificate, so after a restart the elements still in the sets are
 * read back ({@code ipset save}) and a revocation closes them too. {@link #active} lists only grants opened
 * since the start (the sets do not hold subjects). At stop the rules stay in place (protected ports stay
 * closed while the server is down); the sets are emptied only with {@link IptablesSettings#flushOnClose()}.
 * {@link #uninstall()} removes everything.
 *
 * <p>ipset stores one element per port: a grant of more than {@link IptablesSettings#maxPortsPerGrant()}
 * ports is refused.
 */
public final class IptablesFirewall implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(IptablesFirewall.class);
    private static final Pattern SAVED = Pattern.compile(
            "add (certknock[46]) ([0-9a-fA-F.:]+),(tcp|udp):([0-9]{1,5}) timeout ([0-9]+)(?: comment \"([^\"]*)\")?.*");

    /** One element as the kernel holds it: one address, protocol and port. */
    private record Slot(InetAddress address, Protocol protocol, int port) {
    }

    /** Who opened a slot: the element comment, the grant (null when read back after a restart), until when. */
    private record Owner(String comment, GrantDecision decision, Instant expiresAt) {
    }

    private final IptablesSettings settings;
    private final IptablesRenderer renderer;
    private final ProcessRunner runner;
    private final Clock clock;
    private final KnockEventListener listener;
    private final Map<Slot, Owner> slots = new HashMap<>();
    private boolean closed;

    private IptablesFirewall(IptablesSettings settings, ProcessRunner runner, Clock clock,
            KnockEventListener listener) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.renderer = new IptablesRenderer(settings);
        this.runner = Objects.requireNonNull(runner, "runner");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** Sets up (or reconciles) the sets, chain and jumps on this host, with a 10 s timeout per command. */
    public static IptablesFirewall start(IptablesSettings settings, Clock clock, KnockEventListener listener)
            throws FirewallException {
        return start(settings, new ProcessRunner(List.of(), Duration.ofSeconds(10)), clock, listener);
    }

    /**
     * Sets up (or reconciles) the sets, chain and jumps, and reads back the elements left from before a
     * restart.
     *
     * @param runner runs the tools; its prefix may be {@code ip netns exec NAME} (tests)
     */
    public static IptablesFirewall start(IptablesSettings settings, ProcessRunner runner, Clock clock,
            KnockEventListener listener) throws FirewallException {
        IptablesFirewall fw = new IptablesFirewall(settings, runner, clock, listener);
        fw.setup();
        return fw;
    }

    /** Creates or reconciles everything; idempotent (running it again changes nothing). */
    public synchronized void setup() throws FirewallException {
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
        recover();
    }

    /** Reads back the elements still in the sets (left by an earlier run) so that revocation reaches them. */
    private void recover() throws FirewallException {
        Instant now = clock.instant();
        int recovered = 0;
        for (Family f : renderer.families()) {
            ProcessRunner.Result saved = check(IptablesRenderer.ipsetSave(f), null, "cannot list " + f.set());
            for (String line : saved.stdout().split("\n")) {
                Matcher m = SAVED.matcher(line.strip());
                if (!m.matches() || m.group(6) == null || !m.group(6).startsWith(IptablesRenderer.COMMENT_PREFIX)) {
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
                if (!slots.containsKey(slot)) {
                    slots.put(slot, new Owner(m.group(6), null, now.plusSeconds(Long.parseLong(m.group(5)))));
                    recovered++;
                }
            }
        }
        if (recovered > 0) {
            LOG.info("{} grant element(s) still open from before the start; they close on their own timeouts",
                    recovered);
        }
    }

    @Override
    public synchronized void open(GrantDecision d) throws FirewallException {
        if (closed) {
            throw new FirewallException("the iptables firewall is closed", null);
        }
        int ports = d.grants().stream().mapToInt(PortGrant::portCount).sum();
        if (ports > settings.maxPortsPerGrant()) {
            throw new FirewallException("a grant of " + ports + " ports is more than the " + settings.maxPortsPerGrant()
                    + " the iptables backend opens at once (ipset holds one element per port): grant smaller"
                    + " ranges or raise maxPortsPerGrant", null);
        }
        Instant now = clock.instant();
        Duration left = Duration.between(now, d.expiresAt());
        if (left.isNegative() || left.isZero()) {
            throw new FirewallException("the grant expired at " + d.expiresAt() + " before it could be opened", null);
        }
        long seconds = left.toSeconds() + (left.toNanosPart() > 0 ? 1 : 0);
        String comment;
        String script;
        List<SetEntry> entries = d.grants().stream().map(g -> SetEntry.of(d.address(), g)).toList();
        try {
            comment = IptablesRenderer.comment(d.issuer(), d.serial());
            script = renderer.add(entries, seconds, comment);
        } catch (IllegalArgumentException e) {
            throw new FirewallException("cannot open " + d.address().getHostAddress() + " " + d.grants() + ": "
                    + e.getMessage(), e);
        }
        Family family = Family.of(d.address());
        if (family == Family.V6 && !settings.ipv6()) {
            throw new FirewallException("IPv6 is disabled in the iptables backend; cannot open "
                    + AddressText.format(d.address()), null);
        }
        expire(now);
        List<Slot> fresh = new ArrayList<>();
        for (PortGrant g : d.grants()) {
            for (int p = g.firstPort(); p <= g.lastPort(); p++) {
                Slot s = new Slot(d.address(), g.protocol(), p);
                if (!slots.containsKey(s)) {
                    fresh.add(s);
                }
            }
        }
        long inFamily = slots.keySet().stream().filter(s -> Family.of(s.address()) == family).count();
        if (inFamily + fresh.size() > settings.maxElements()) {
            throw new FirewallException("the grant set " + family.set() + " is full (" + settings.maxElements()
                    + " entries)", null);
        }
        ProcessRunner.Result r = execute(IptablesRenderer.ipsetRestore(), script);
        if (!r.succeeded()) {
            // ipset restore stops at the first bad line: take back what this grant added before it
            if (!fresh.isEmpty()) {
                ProcessRunner.Result undo = execute(IptablesRenderer.ipsetRestore(), renderer.delete(ranges(fresh)));
                if (!undo.succeeded()) {
                    LOG.warn("could not take back a partly applied grant (it expires in {} s): {}", seconds,
                            LogText.of(undo.describe()));
                }
            }
            throw new FirewallException("cannot open " + d.address().getHostAddress() + " " + d.grants() + ": "
                    + r.describe(), null);
        }
        Owner owner = new Owner(comment, d, d.expiresAt());
        for (PortGrant g : d.grants()) {
            for (int p = g.firstPort(); p <= g.lastPort(); p++) {
                slots.put(new Slot(d.address(), g.protocol(), p), owner);
            }
        }
        LOG.info("GRANT {} {} for {} s (until {}) to {} serial {}", d.address().getHostAddress(), d.grants(), seconds,
                d.expiresAt(), LogText.of(d.subject().getName()), d.serial().toString(16));
        listener.grantOpened(d);
    }

    @Override
    public synchronized int closeCertificate(X500Principal issuer, BigInteger serial) throws FirewallException {
        String comment;
        try {
            comment = IptablesRenderer.comment(issuer, serial);
        } catch (IllegalArgumentException e) {
            return 0;
        }
        expire(clock.instant());
        List<Slot> doomed = new ArrayList<>();
        Set<GrantDecision> decisions = new LinkedHashSet<>();
        Set<InetAddress> recoveredAddresses = new HashSet<>();
        int recoveredSlots = 0;
        for (Map.Entry<Slot, Owner> e : slots.entrySet()) {
            Owner o = e.getValue();
            if (!o.comment().equals(comment)) {
                continue;
            }
            if (o.decision() == null) {
                recoveredAddresses.add(e.getKey().address());
                recoveredSlots++;
            } else if (o.decision().issuer().equals(issuer) && o.decision().serial().equals(serial)) {
                decisions.add(o.decision());
            } else {
                continue;
            }
            doomed.add(e.getKey());
        }
        if (doomed.isEmpty()) {
            return 0;
        }
        check(IptablesRenderer.ipsetRestore(), renderer.delete(ranges(doomed)),
                "cannot close the grants of revoked certificate serial " + serial.toString(16));
        doomed.forEach(slots::remove);
        for (GrantDecision d : decisions) {
            LOG.info("CLOSE {} {} (certificate serial {} revoked)", d.address().getHostAddress(), d.grants(),
                    serial.toString(16));
            listener.grantClosed(d, "revoked");
        }
        if (!recoveredAddresses.isEmpty()) {
            LOG.info("CLOSE {} port(s) opened before the restart for {} (certificate serial {} revoked)",
                    recoveredSlots,
                    recoveredAddresses, serial.toString(16));
        }
        return decisions.size() + recoveredAddresses.size();
    }

    @Override
    public synchronized List<GrantDecision> active(Instant now) {
        expire(now);
        return slots.values().stream().map(Owner::decision).filter(Objects::nonNull).distinct().toList();
    }

    /** Forgets what the kernel has expired (by now), and reports grants none of whose elements remain. */
    private void expire(Instant now) {
        Set<GrantDecision> touched = new LinkedHashSet<>();
        for (Iterator<Owner> it = slots.values().iterator(); it.hasNext();) {
            Owner o = it.next();
            if (!o.expiresAt().isAfter(now)) {
                it.remove();
                if (o.decision() != null) {
                    touched.add(o.decision());
                }
            }
        }
        if (touched.isEmpty()) {
            return;
        }
        Set<GrantDecision> remaining = new HashSet<>();
        slots.values().forEach(o -> remaining.add(o.decision()));
        touched.stream().filter(d -> !remaining.contains(d)).forEach(d -> listener.grantClosed(d, "expired"));
    }

    /** Slots merged into as few address, protocol and port-range entries as possible. */
    private static List<SetEntry> ranges(List<Slot> slots) {
        Map<InetAddress, Map<Protocol, TreeMap<Integer, Boolean>>> by = new LinkedHashMap<>();
        for (Slot s : slots) {
            by.computeIfAbsent(s.address(), a -> new TreeMap<>()).computeIfAbsent(s.protocol(), p -> new TreeMap<>())
                    .put(s.port(), true);
        }
        List<SetEntry> out = new ArrayList<>();
        by.forEach((address, protocols) -> protocols.forEach((protocol, ports) -> {
            int first = -1;
            int last = -1;
            for (int p : ports.keySet()) {
                if (first >= 0 && p == last + 1) {
                    last = p;
                    continue;
                }
                if (first >= 0) {
                    out.add(new SetEntry(address, protocol, first, last));
                }
                first = p;
                last = p;
            }
            if (first >= 0) {
                out.add(new SetEntry(address, protocol, first, last));
            }
        }));
        return out;
    }

    /**
     * Stops using the firewall. The chain and jump stay (protected ports stay closed while the server is
     * down) and grants close on their own timeouts; with {@link IptablesSettings#flushOnClose()} the sets are
     * emptied now.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!settings.flushOnClose()) {
            return;
        }
        try {
            check(IptablesRenderer.ipsetRestore(), renderer.flushSets(), "cannot empty the grant sets");
            Set<GrantDecision> open = new LinkedHashSet<>();
            slots.values().forEach(o -> {
                if (o.decision() != null) {
                    open.add(o.decision());
                }
            });
            slots.clear();
            open.forEach(d -> listener.grantClosed(d, "stopped"));
        } catch (FirewallException e) {
            LOG.error("{}; the grants close on their own timeouts", LogText.of(e.getMessage()));
        }
    }

    /**
     * Removes everything certknock set up: every jump from INPUT to the chain, the chain, and the sets (all
     * grants close). Running it when nothing is there is not an error.
     */
    public synchronized void uninstall() throws FirewallException {
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
