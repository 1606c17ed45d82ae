package dev.certknock.server.firewall;

import dev.certknock.server.grant.Holder;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The comment every backend writes on an element: {@code ck1 <leaf tag> <CA tag>...}, the tags of the holder that
 * expires last ({@link dev.certknock.server.grant.CertRef#tag()}: 16 hex digits each). After a restart the ledger
 * reads it back, and a revocation of the leaf or of any CA of its path still finds the element. At most
 * {@value Holder#MAX_PATH} tags: 4 + 6 * 17 = 106 characters, under nft's 128 and ipset's 255.
 */
public final class HolderTags {

    static final String VERSION = "ck1";
    private static final Pattern COMMENT = Pattern.compile("ck1( [0-9a-f]{16}){1," + Holder.MAX_PATH + "}");

    private HolderTags() {
    }

    public static String format(Holder holder) {
        return VERSION + " " + String.join(" ", holder.tags());
    }

    /** The comment for tags read back from an element (sorted: their order is not kept across a restart). */
    static String format(Set<String> tags) {
        return VERSION + " " + String.join(" ", new java.util.TreeSet<>(tags));
    }

    /** The tags of a comment, or an empty set when it is not one of ours (another tool's, or an older format). */
    public static Set<String> parse(String comment) {
        if (comment == null || !COMMENT.matcher(comment).matches()) {
            return Set.of();
        }
        List<String> words = List.of(comment.split(" "));
        return Set.copyOf(new LinkedHashSet<>(words.subList(1, words.size())));
    }
}
