package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.GrantBound;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.GrantsFormatException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The bounds the CAs of a chain set with their own grants extension (docs/GRANT-EXTENSION.md, "On a CA
 * certificate: a bound"), checked before anything is signed under them, so that knock-ca never issues a
 * certificate every server would refuse: {@code issue-client} for a client's grants, {@code init --parent}
 * for an intermediate's own bound.
 */
public final class CaBounds {

    /** One CA of the chain that carries a bound. */
    public record Bound(X509Certificate ca, CertknockGrants grants) {
    }

    private CaBounds() {
    }

    /**
     * The bounds of {@code chain} (the signing CA first, then its issuers), in that order; CAs without the extension
     * are left out. An extension that cannot be read is refused: its bound is unknown.
     */
    public static List<Bound> of(List<X509Certificate> chain) {
        List<Bound> out = new ArrayList<>();
        for (X509Certificate ca : chain) {
            Optional<CertknockGrants> g;
            try {
                g = GrantsExtension.fromCertificate(ca);
            } catch (GrantsFormatException e) {
                throw CaException.failure("the CA certificate " + ca.getSubjectX500Principal().getName()
                        + " has a grants extension that cannot be read, so its bound is unknown and nothing is issued under it: "
                        + e.getMessage());
            }
            g.ifPresent(grants -> out.add(new Bound(ca, grants)));
        }
        return List.copyOf(out);
    }

    /** The least maxOpenSeconds of the bounds; empty when none sets one. */
    public static OptionalInt cap(List<Bound> bounds) {
        OptionalInt cap = OptionalInt.empty();
        for (Bound b : bounds) {
            cap = GrantBound.cap(cap, b.grants());
        }
        return cap;
    }

    /**
     * Refuses (bad input) {@code grants} when they reach outside the bound of a CA of {@code chain}, or set a
     * maxOpenSeconds longer than a bound's (every server would cut it: the certificate would promise more than it
     * gives). The message names the CA, says what crosses and how to fix it.
     *
     * @param what the certificate to be made, e.g. "the client certificate"
     * @param signer how to call the first CA of the chain, the one that signs: "this CA" or "the parent CA"
     */
    public static void requireInside(List<X509Certificate> chain, CertknockGrants grants, String what, String signer) {
        List<Bound> bounds = of(chain);
        for (Bound b : bounds) {
            String who = who(chain, b.ca(), signer);
            List<String> crossed = GrantBound.crossings(b.grants(), grants);
            if (!crossed.isEmpty()) {
                throw CaException.badInput(what + " would reach outside the bound of " + who + ": " + String.join("; ", crossed)
                        + ". Give only what the bound allows (--grant, --server and --source inside it; "
                        + "'knock-ca inspect' on the CA certificate shows its bound), or issue from a CA whose bound covers it");
            }
            if (grants.maxOpenSeconds().isPresent() && b.grants().maxOpenSeconds().isPresent()
                    && grants.maxOpenSeconds().getAsInt() > b.grants().maxOpenSeconds().getAsInt()) {
                int limit = b.grants().maxOpenSeconds().getAsInt();
                throw CaException.badInput("--max-open " + grants.maxOpenSeconds().getAsInt() + " is longer than the "
                        + limit + " s the bound of " + who + " allows: every server would cut openings to " + limit
                        + " s; give --max-open " + limit + " or less, or leave it out (the bound still caps it)");
            }
        }
    }

    /** "this CA (CN=...)" for the first certificate of the chain, "its issuer (CN=...)" for the others. */
    private static String who(List<X509Certificate> chain, X509Certificate ca, String signer) {
        String name = ca.getSubjectX500Principal().getName();
        return (chain.indexOf(ca) == 0 ? signer : "its issuer") + " (" + name + ")";
    }

    /**
     * Why {@code pattern} cannot be a server entry of a CA's bound, or null when it can: a name, or {@code *.} and a
     * name ({@code *.db.example.test}, which covers names of exactly one more leading label). A {@code *} anywhere else
     * would be compared as an ordinary character by every server, so it is refused here.
     */
    public static String serverPatternProblem(String pattern) {
        String rest = GrantBound.isWildcard(pattern) ? pattern.substring(2) : pattern;
        if (rest.indexOf('*') >= 0 || pattern.equals("*") || pattern.equals("*.")) {
            return "'" + pattern + "': '*' may only stand as the whole leftmost label followed by a name, as in "
                    + "*.db.example.test (covers pg1.db.example.test, not db.example.test nor a.pg1.db.example.test)";
        }
        if (rest.startsWith(".") || rest.endsWith(".") || rest.contains("..")) {
            return "'" + pattern + "' has an empty label: write names like db.example.test or *.db.example.test";
        }
        return null;
    }
}
