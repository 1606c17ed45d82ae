package dev.certknock.server.firewall.iptables;

import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;

/**
 * Renders what the {@code iptables} backend feeds to {@code ipset restore} and {@code iptables-restore
 * --noflush} (and the few single commands it runs), without running anything: the text is tested against
 * golden files.
 *
 * <p>What it sets up, per address family: an ipset ({@code certknock4} / {@code certknock6}, type
 * {@code hash:ip,port}, with timeout and comment support) and a chain {@value #CHAIN} that INPUT jumps to
 * first. The chain drops the knock port (the host stays silent), accepts established and related traffic
 * (connections survive their grant), accepts the loopback interface (as the nftables backend does: the
 * host may reach its own services), accepts IPv6 neighbour discovery, accepts packets whose source address,
 * protocol and destination port are in the set, and drops (or rejects) the protected ports. Everything else
 * returns to INPUT untouched. Each set element carries its own timeout, so the kernel closes a grant on time
 * even if the server is dead; adding with {@code -exist} refreshes the timeout of an element that is already
 * there, so a repeated knock never duplicates anything. Declaring the chain in an {@code iptables-restore
 * --noflush} batch replaces its rules, so setting up twice leaves one copy.
 */
public final class IptablesRenderer {

    /** The chain certknock owns in the filter table (both families). */
    public static final String CHAIN = "CERTKNOCK";
    /** The longest timeout ipset accepts, in seconds. */
    public static final long MAX_TIMEOUT_SECONDS = 2_147_483L;

    /** An address family: its set, its ipset family, its tools. */
    public enum Family {
        V4("certknock4", "inet", "iptables", "iptables-restore"),
        V6("certknock6", "inet6", "ip6tables", "ip6tables-restore");

        private final String set;
        private final String ipsetFamily;
        private final String tables;
        private final String restore;

        Family(String set, String ipsetFamily, String tables, String restore) {
            this.set = set;
            this.ipsetFamily = ipsetFamily;
            this.tables = tables;
            this.restore = restore;
        }

        /** The ipset name. */
        public String set() {
            return set;
        }

        /** {@code iptables} or {@code ip6tables}. */
        public String tables() {
            return tables;
        }

        public static Family of(InetAddress address) {
            return address instanceof Inet4Address ? V4 : V6;
        }
    }

    /** One address, protocol and port range: one {@code add} or {@code del} line (ipset expands the range). */
    public record SetEntry(InetAddress address, Protocol protocol, int firstPort, int lastPort) {

        public SetEntry {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(protocol, "protocol");
            new PortGrant(protocol, firstPort, lastPort);
        }

        public static SetEntry of(InetAddress address, PortGrant grant) {
            return new SetEntry(address, grant.protocol(), grant.firstPort(), grant.lastPort());
        }

        public Family family() {
            return Family.of(address);
        }

        /** {@code 192.0.2.1,tcp:22} or {@code 2001:db8::1,udp:8000-8100}. */
        public String element() {
            return AddressText.format(address) + "," + protocol.label() + ":" + firstPort
                    + (lastPort == firstPort ? "" : "-" + lastPort);
        }
    }

    private final IptablesSettings settings;

    public IptablesRenderer(IptablesSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    public IptablesSettings settings() {
        return settings;
    }

    /** The families set up: IPv4, and IPv6 unless disabled. */
    public List<Family> families() {
        return settings.ipv6() ? List.of(Family.V4, Family.V6) : List.of(Family.V4);
    }

    // ---- commands -------------------------------------------------------------------------------------

    /** {@code ipset restore}: reads a batch on standard input. */
    public static List<String> ipsetRestore() {
        return List.of("ipset", "restore");
    }

    /** {@code ipset save SET}: lists one set in restore format (for recovery at start). */
    public static List<String> ipsetSave(Family family) {
        return List.of("ipset", "save", family.set);
    }

    /** {@code iptables-restore -w --noflush}: changes only what the batch names, atomically. */
    public static List<String> tablesRestore(Family family) {
        return List.of(family.restore, "-w", "--noflush");
    }

    /** Exits 0 when INPUT already jumps to the chain, 1 when it does not. */
    public static List<String> checkJump(Family family) {
        return List.of(family.tables, "-w", "-C", "INPUT", "-j", CHAIN);
    }

    /** Puts the jump first in INPUT, ahead of any rule that would accept a protected port. */
    public static List<String> insertJump(Family family) {
        return List.of(family.tables, "-w", "-I", "INPUT", "1", "-j", CHAIN);
    }

    public static List<String> deleteJump(Family family) {
        return List.of(family.tables, "-w", "-D", "INPUT", "-j", CHAIN);
    }

    // ---- batches --------------------------------------------------------------------------------------

    /** Creates the sets unless they exist (same parameters: {@code -exist} makes this idempotent). */
    public String createSets() {
        StringBuilder sb = new StringBuilder();
        for (Family f : families()) {
            sb.append("create ").append(f.set).append(" hash:ip,port family ").append(f.ipsetFamily)
                    .append(" maxelem ").append(settings.maxElements())
                    .append(" timeout 0 comment -exist\n");
        }
        return sb.toString();
    }

    /** The chain's rules for one family, for {@code iptables-restore --noflush}: replaces the chain's content. */
    public String chain(Family f) {
        StringBuilder sb = new StringBuilder();
        sb.append("*filter\n");
        sb.append(':').append(CHAIN).append(" - [0:0]\n");
        String a = "-A " + CHAIN + " ";
        sb.append(a).append("-p udp -m udp --dport ").append(settings.knockPort()).append(" -j DROP\n");
        sb.append(a).append("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        sb.append(a).append("-i lo -j ACCEPT\n"); // as the nftables backend: the host may reach its own services
        if (f == Family.V6) {
            for (String type : List.of("133", "134", "135", "136")) {
                sb.append(a).append("-p ipv6-icmp -m icmp6 --icmpv6-type ").append(type).append(" -j ACCEPT\n");
            }
        }
        sb.append(a).append("-m set --match-set ").append(f.set).append(" src,dst -j ACCEPT\n");
        for (PortGrant p : settings.protectedPorts()) {
            String proto = p.protocol().label();
            sb.append(a).append("-p ").append(proto).append(" -m ").append(proto).append(" --dport ")
                    .append(p.firstPort()).append(p.isSinglePort() ? "" : ":" + p.lastPort())
                    .append(" -j ").append(verdict(f, p.protocol())).append('\n');
        }
        sb.append("COMMIT\n");
        return sb.toString();
    }

    private String verdict(Family f, Protocol protocol) {
        if (!settings.reject()) {
            return "DROP";
        }
        if (protocol == Protocol.TCP) {
            return "REJECT --reject-with tcp-reset";
        }
        return f == Family.V4 ? "REJECT --reject-with icmp-port-unreachable"
                : "REJECT --reject-with icmp6-port-unreachable";
    }

    /** Empties and deletes the chain (after the jumps to it were deleted). */
    public String removeChain() {
        return "*filter\n:" + CHAIN + " - [0:0]\n-X " + CHAIN + "\nCOMMIT\n";
    }

    /**
     * Adds (or refreshes) entries with this timeout and comment: one line per entry, ranges expanded by
     * ipset.
     *
     * @throws IllegalArgumentException when the timeout is outside 1 to {@value #MAX_TIMEOUT_SECONDS} s or
     *                                  the comment is not one this renderer makes
     * @param comment the holder tags, or null for none (an element from before a restart that named no holder)
     */
    public String add(List<SetEntry> entries, long seconds, String comment) {
        if (seconds < 1 || seconds > MAX_TIMEOUT_SECONDS) {
            throw new IllegalArgumentException(
                    "a grant lasts 1 to " + MAX_TIMEOUT_SECONDS + " seconds with ipset, not " + seconds);
        }
        if (comment != null && !comment.matches("ck1( [0-9a-f]{16}){1,6}")) {
            throw new IllegalArgumentException("not a certknock element comment: " + comment);
        }
        StringBuilder sb = new StringBuilder();
        for (SetEntry e : entries) {
            sb.append("add ").append(e.family().set).append(' ').append(e.element()).append(" timeout ")
                    .append(seconds).append(comment == null ? "" : " comment \"" + comment + "\"").append(" -exist\n");
        }
        return sb.toString();
    }

    /** Deletes entries; entries already gone (expired) are not an error. */
    public String delete(List<SetEntry> entries) {
        StringBuilder sb = new StringBuilder();
        for (SetEntry e : entries) {
            sb.append("del ").append(e.family().set).append(' ').append(e.element()).append(" -exist\n");
        }
        return sb.toString();
    }

    /** Empties the sets (every grant closes; established connections stay). */
    public String flushSets() {
        StringBuilder sb = new StringBuilder();
        families().forEach(f -> sb.append("flush ").append(f.set).append('\n'));
        return sb.toString();
    }

    /** Deletes the sets (after the rules that use them are gone). */
    public String destroySets() {
        StringBuilder sb = new StringBuilder();
        families().forEach(f -> sb.append("destroy ").append(f.set).append('\n'));
        return sb.toString();
    }
}
