package dev.certknock.protocol.grant;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The grants extension on a CA certificate read as a <em>bound</em> on every certificate issued below it
 * (docs/GRANT-EXTENSION.md, "On a CA certificate: a bound"). A certificate lies inside a bound when
 * <ul>
 *   <li>each of its grants lies inside some grant of the bound (same protocol, port range contained); the bound's
 *       grants are a union: tcp/22 and tcp/5432 under a bound of tcp/22 and tcp/5400-5499 are inside;</li>
 *   <li>when the bound lists servers: the certificate lists servers too (none means any server, which is wider) and
 *       each is covered by a server pattern of the bound ({@link #coversServer});</li>
 *   <li>when the bound lists sources: the certificate lists sources too (none means any source) and each lies inside a
 *       source prefix of the bound of the same address family ({@link SourcePrefix#containsPrefix}).</li>
 * </ul>
 * {@code maxOpenSeconds} is no condition: it is a cap, the least along the path ({@link #cap}).
 */
public final class GrantBound {

    private GrantBound() {
    }

    /**
     * Why {@code inner} (the grants of a certificate below the CA) does not lie inside {@code bound} (the CA's grants
     * extension), one reason per line item crossed, in the order grants, servers, sources; an empty list when it lies
     * inside. Each reason names the value crossed and what the bound allows, e.g.
     * {@code grant tcp/22 is outside the bound's grants tcp/5432}.
     */
    public static List<String> crossings(CertknockGrants bound, CertknockGrants inner) {
        Objects.requireNonNull(bound, "bound");
        Objects.requireNonNull(inner, "inner");
        List<String> out = new ArrayList<>();
        for (PortGrant g : inner.grants()) {
            if (!bound.permits(g)) {
                out.add("grant " + g + " is outside the bound's grants " + join(bound.grants()));
            }
        }
        if (!bound.servers().isEmpty()) {
            if (inner.servers().isEmpty()) {
                out.add("no servers listed (any server) but the bound allows only servers " + join(bound.servers()));
            }
            for (String name : inner.servers()) {
                if (bound.servers().stream().noneMatch(p -> coversServer(p, name))) {
                    out.add("server " + name + " is not covered by the bound's servers " + join(bound.servers()));
                }
            }
        }
        if (!bound.sources().isEmpty()) {
            if (inner.sources().isEmpty()) {
                out.add("no sources listed (any source) but the bound allows only sources " + join(bound.sources()));
            }
            for (SourcePrefix prefix : inner.sources()) {
                if (bound.sources().stream().noneMatch(b -> b.containsPrefix(prefix))) {
                    out.add("source " + prefix + " is not inside the bound's sources " + join(bound.sources()));
                }
            }
        }
        return List.copyOf(out);
    }

    /** True when {@code inner} lies inside {@code bound}: {@link #crossings} is empty. */
    public static boolean contains(CertknockGrants bound, CertknockGrants inner) {
        return crossings(bound, inner).isEmpty();
    }

    /**
     * True when the server pattern {@code pattern} of a bound covers the server name {@code name} of a certificate
     * below it, ignoring ASCII case as {@link CertknockGrants#permitsServer} does:
     * <ul>
     *   <li>a pattern that starts with the label {@code *.} and has more after it covers a name of exactly one more
     *       label, that label not empty: {@code *.db.example.test} covers {@code pg1.db.example.test} but neither
     *       {@code db.example.test} nor {@code a.pg1.db.example.test} (as a TLS wildcard, RFC 6125 6.4.3);</li>
     *   <li>any other pattern covers only the equal name ({@code *} elsewhere is an ordinary character).</li>
     * </ul>
     */
    public static boolean coversServer(String pattern, String name) {
        Objects.requireNonNull(pattern, "pattern");
        Objects.requireNonNull(name, "name");
        if (CertknockGrants.equalsIgnoreAsciiCase(pattern, name)) {
            return true;
        }
        if (!isWildcard(pattern)) {
            return false;
        }
        String suffix = pattern.substring(1); // ".db.example.test"
        int dot = name.indexOf('.');
        return dot > 0 && CertknockGrants.equalsIgnoreAsciiCase(name.substring(dot), suffix);
    }

    /** True when {@code pattern} is a wildcard pattern: {@code *.} followed by at least one more character. */
    public static boolean isWildcard(String pattern) {
        return pattern.length() > 2 && pattern.startsWith("*.");
    }

    /**
     * The least of {@code current} and the bound's maxOpenSeconds: what is left of the cap after one more CA of the
     * path. Empty only when both are.
     */
    public static OptionalInt cap(OptionalInt current, CertknockGrants bound) {
        Objects.requireNonNull(current, "current");
        OptionalInt b = bound.maxOpenSeconds();
        if (b.isEmpty()) {
            return current;
        }
        if (current.isEmpty()) {
            return b;
        }
        return OptionalInt.of(Math.min(current.getAsInt(), b.getAsInt()));
    }

    private static String join(List<?> values) {
        StringBuilder s = new StringBuilder();
        for (Object v : values) {
            s.append(s.length() == 0 ? "" : ", ").append(v);
        }
        return s.toString();
    }
}
