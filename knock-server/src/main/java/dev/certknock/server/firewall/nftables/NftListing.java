package dev.certknock.server.firewall.nftables;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the grant sets from {@code nft -j list table inet <table>}: the elements the kernel holds now
 * (it drops expired ones by itself). Elements that are not an address, tcp or udp and a port range
 * (added by hand, say) are skipped rather than misread.
 */
public final class NftListing {

    /**
     * One element as listed. nft prints times in whole seconds, so {@code timeout} and {@code expires}
     * are rounded down; {@link Duration#ZERO} when absent. {@code comment} is null when absent.
     */
    /** @param set the set it was listed in: its own ({@link NftElement#set()}), or a legacy place */
    public record Listed(NftElement element, Duration timeout, Duration expires, String comment, String set) {

        /** Whether it sits where an earlier version put it rather than in its own set (a single port in an interval set). */
        public boolean inLegacyPlace() {
            return !set.equals(element.set());
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private NftListing() {
    }

    /**
     * Parses a listing.
     *
     * @throws IllegalArgumentException when the text is not nft's JSON
     */
    public static List<Listed> parse(String json, String table) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("nft printed something that is not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode items = root == null ? null : root.get("nftables");
        if (items == null || !items.isArray()) {
            throw new IllegalArgumentException("nft JSON has no \"nftables\" array");
        }
        List<Listed> out = new ArrayList<>();
        for (JsonNode item : items) {
            JsonNode set = item.get("set");
            if (set == null || !"inet".equals(set.path("family").asText()) || !table.equals(set.path("table").asText())) {
                continue;
            }
            String name = set.path("name").asText();
            if (!NftElement.SETS.contains(name)) {
                continue;
            }
            for (JsonNode elem : set.path("elem")) {
                Listed listed = element(elem, name);
                if (listed != null && listed.element().mayBeIn(name)) {
                    out.add(listed);
                }
            }
        }
        return out;
    }

    /** One {@code elem} entry: either {@code {"elem": {"val": ..., "timeout": ...}}} or a bare value. */
    private static Listed element(JsonNode node, String setName) {
        JsonNode wrapper = node.get("elem");
        JsonNode value = wrapper != null ? wrapper.get("val") : node;
        JsonNode concat = value == null ? null : value.get("concat");
        if (concat == null || !concat.isArray() || concat.size() != 3 || !concat.get(0).isTextual()) {
            return null;
        }
        InetAddress address;
        try {
            address = NftAddresses.parse(concat.get(0).asText());
        } catch (IllegalArgumentException e) {
            return null;
        }
        Protocol protocol = protocol(concat.get(1));
        if (protocol == null) {
            return null;
        }
        JsonNode port = concat.get(2);
        int first;
        int last;
        if (port.isInt()) {
            first = port.asInt();
            last = first;
        } else if (port.has("range") && port.get("range").size() == 2 && port.get("range").get(0).isInt()
                && port.get("range").get(1).isInt()) {
            first = port.get("range").get(0).asInt();
            last = port.get("range").get(1).asInt();
        } else {
            return null;
        }
        PortGrant ports;
        try {
            ports = new PortGrant(protocol, first, last);
        } catch (IllegalArgumentException e) {
            return null; // port 0 or a reversed range: not one of ours
        }
        Duration timeout = Duration.ZERO;
        Duration expires = Duration.ZERO;
        String comment = null;
        if (wrapper != null) {
            timeout = Duration.ofSeconds(wrapper.path("timeout").asLong(0));
            expires = Duration.ofSeconds(wrapper.path("expires").asLong(0));
            comment = wrapper.hasNonNull("comment") ? wrapper.get("comment").asText() : null;
        }
        return new Listed(new NftElement(address, ports), timeout, expires, comment, setName);
    }

    private static Protocol protocol(JsonNode node) {
        if (node.isInt()) {
            return Protocol.ofNumber(node.asInt());
        }
        String text = node.asText().toLowerCase(Locale.ROOT);
        for (Protocol p : Protocol.values()) {
            if (p.label().equals(text)) {
                return p;
            }
        }
        return null;
    }
}
