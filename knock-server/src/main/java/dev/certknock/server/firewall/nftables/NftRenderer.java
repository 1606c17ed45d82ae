package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Renders the nft scripts of the nftables backend as text, from values only: no I/O, so every script is
 * covered by golden files. Scripts are meant for {@code nft -f -}, where one script is one atomic
 * batch; scripts rendered here can be concatenated into one batch.
 *
 * <p>The server owns the table {@code inet <table>} and nothing else. Its input chain is a base chain at
 * priority {@code filter - 10}, before the usual {@code filter} chains, with policy accept: it drops the
 * knock port and the protected ports unless granted and accepts everything else. An accept in our chain
 * only hands the packet on to the next base chain, so the host's own ruleset still applies; our drops
 * are final.
 */
public final class NftRenderer {

    /** Priority of the input chain: before other chains at {@code filter}, so a closed port stays closed. */
    public static final String PRIORITY = "filter - 10";

    private final String table;

    /** @param table the table name, already validated by {@link NftSettings} */
    public NftRenderer(String table) {
        this.table = Objects.requireNonNull(table, "table");
    }

    /**
     * The table, created or reconciled, idempotently: applied whether or not the table exists, it leaves
     * exactly one table with the two sets (their elements kept, so grants survive a restart) and the input
     * chain holding exactly the rules for these settings. The chain is declared empty (a no-op when it
     * exists), flushed and deleted, then created again with its hook and rules; in one batch, so there is
     * no instant without the rules, and a changed hook priority from an earlier version is replaced rather
     * than refused.
     */
    public String setup(NftSettings settings) {
        if (!settings.table().equals(table)) {
            throw new IllegalArgumentException("settings are for table " + settings.table() + ", renderer for " + table);
        }
        StringBuilder sb = new StringBuilder();
        sb.append("# certknock: table inet ").append(table).append(" belongs to knock-server; it changes nothing else.\n");
        sb.append("table inet ").append(table).append(" {\n");
        set(sb, NftElement.SET4, "ipv4_addr", true);
        set(sb, NftElement.SET6, "ipv6_addr", true);
        set(sb, NftElement.PORT_SET4, "ipv4_addr", false);
        set(sb, NftElement.PORT_SET6, "ipv6_addr", false);
        sb.append("\tchain input {\n\t}\n");
        sb.append("}\n");
        sb.append("flush chain inet ").append(table).append(" input\n");
        sb.append("delete chain inet ").append(table).append(" input\n");
        sb.append("table inet ").append(table).append(" {\n");
        sb.append("\tchain input {\n");
        sb.append("\t\ttype filter hook input priority ").append(PRIORITY).append("; policy accept;\n");
        sb.append("\t\tct state established,related accept\n");
        sb.append("\t\tudp dport ").append(settings.knockPort()).append(" drop\n");
        sb.append("\t\tiif \"lo\" accept\n");
        sb.append("\t\tmeta l4proto ipv6-icmp accept\n");
        sb.append("\t\tip saddr . meta l4proto . th dport @").append(NftElement.PORT_SET4).append(" accept\n");
        sb.append("\t\tip6 saddr . meta l4proto . th dport @").append(NftElement.PORT_SET6).append(" accept\n");
        sb.append("\t\tip saddr . meta l4proto . th dport @").append(NftElement.SET4).append(" accept\n");
        sb.append("\t\tip6 saddr . meta l4proto . th dport @").append(NftElement.SET6).append(" accept\n");
        for (PortGrant p : settings.protect()) {
            sb.append("\t\t").append(p.protocol().label()).append(" dport ").append(ports(p)).append(' ')
                    .append(closing(p.protocol(), settings.reject())).append('\n');
        }
        sb.append("\t}\n");
        sb.append("}\n");
        return sb.toString();
    }

    private static void set(StringBuilder sb, String name, String addressType, boolean interval) {
        sb.append("\tset ").append(name).append(" {\n");
        sb.append("\t\ttype ").append(addressType).append(" . inet_proto . inet_service\n");
        sb.append(interval ? "\t\tflags interval, timeout\n" : "\t\tflags timeout\n");
        sb.append("\t}\n");
    }

    private static String ports(PortGrant p) {
        return p.isSinglePort() ? Integer.toString(p.firstPort()) : p.firstPort() + "-" + p.lastPort();
    }

    private static String closing(Protocol protocol, boolean reject) {
        if (!reject) {
            return "drop";
        }
        return protocol == Protocol.TCP ? "reject with tcp reset" : "reject";
    }

    /**
     * Adds the entries, or refreshes them when they exist: one {@code add element} line per set, each
     * element with {@code timeout} and {@code expires}. Empty text for no entries.
     */
    public String add(Collection<NftEntry> entries) {
        Map<NftElement, NftEntry> unique = new LinkedHashMap<>(); // one line per key: the last timing wins
        entries.forEach(e -> unique.put(e.element(), e));
        StringBuilder sb = new StringBuilder();
        bySet(unique.values(), e -> e.element().set()).forEach((set, list) -> {
            sb.append("add element inet ").append(table).append(' ').append(set).append(" { ");
            for (int i = 0; i < list.size(); i++) {
                NftEntry e = list.get(i);
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append(e.element().text()).append(" timeout ").append(duration(e.timeout()))
                        .append(" expires ").append(duration(e.expires()));
                if (e.comment() != null) {
                    sb.append(" comment \"").append(e.comment()).append('"');
                }
            }
            sb.append(" }\n");
        });
        return sb.toString();
    }

    /**
     * Deletes the elements whether or not they still exist. {@code delete element} of a missing element
     * (one the kernel already expired) fails the whole batch, so each set's elements are first added with
     * a 1 s timeout (a no-op for the key when present, a creation when absent) and then deleted, in the
     * same atomic batch: the net effect is always "absent", and no packet sees the intermediate state.
     * Empty text for no elements.
     */
    public String delete(Collection<NftElement> elements) {
        return delete(elements, true);
    }

    /**
     * As {@link #delete}, but only from each element's own set ({@link NftElement#set()}): for elements known not to
     * be in a legacy place. A single port's delete then never touches an interval set.
     */
    public String deleteFromOwnSet(Collection<NftElement> elements) {
        return delete(elements, false);
    }

    private String delete(Collection<NftElement> elements, boolean everywhere) {
        StringBuilder sb = new StringBuilder();
        Map<String, List<NftElement>> bySet = new LinkedHashMap<>();
        for (NftElement e : new LinkedHashSet<>(elements)) {
            // a single port may also be in its interval set (opened before the hash sets)
            for (String set : everywhere ? e.setsToSearch() : List.of(e.set())) {
                bySet.computeIfAbsent(set, k -> new ArrayList<>()).add(e);
            }
        }
        bySet.forEach((set, list) -> {
            sb.append("add element inet ").append(table).append(' ').append(set).append(" { ");
            join(sb, list, e -> e.text() + " timeout 1s");
            sb.append(" }\n");
            sb.append("delete element inet ").append(table).append(' ').append(set).append(" { ");
            join(sb, list, NftElement::text);
            sb.append(" }\n");
        });
        return sb.toString();
    }

    /** Empties both grant sets (at stop, when configured): every grant closes now. */
    public String flushSets() {
        StringBuilder sb = new StringBuilder();
        for (String set : NftElement.SETS) {
            sb.append("flush set inet ").append(table).append(' ').append(set).append('\n');
        }
        return sb.toString();
    }

    /** The arguments after {@code nft} that list the table, sets with their elements, as JSON. */
    public List<String> listArguments() {
        return List.of("-j", "list", "table", "inet", table);
    }

    /** nft time text: whole seconds as {@code 60s}, otherwise milliseconds as {@code 59500ms}. */
    static String duration(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    private static <T> void join(StringBuilder sb, List<T> list, Function<T, String> text) {
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(text.apply(list.get(i)));
        }
    }

    private static <T> Map<String, List<T>> bySet(Collection<T> items, Function<T, String> set) {
        Map<String, List<T>> out = new LinkedHashMap<>();
        for (String name : NftElement.SETS) {
            out.put(name, new ArrayList<>());
        }
        for (T t : items) {
            out.get(set.apply(t)).add(t);
        }
        out.values().removeIf(List::isEmpty);
        return out;
    }
}
