package dev.certknock.protocol.grant;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * What a client certificate allows, as carried in the id-ce-certknockGrants extension
 * ({@link CertknockOids#GRANTS_EXTENSION}, encoded by {@link GrantsExtension}).
 *
 * <ul>
 *   <li>{@code grants}: the ports the holder may ask to open, 1 to {@value #MAX_GRANTS} entries. Overlapping or
 *       repeated grants are allowed (the ASN.1 allows them); they grant nothing extra.</li>
 *   <li>{@code maxOpenSeconds}: upper bound on how long any one opening lasts, 1 to {@value #MAX_OPEN_SECONDS};
 *       empty when the certificate sets none (the server's own limit applies).</li>
 *   <li>{@code servers}: names of the servers the certificate may knock on, at most {@value #MAX_SERVERS}; empty
 *       means any server.</li>
 *   <li>{@code sources}: client address prefixes the opened address must lie in, at most {@value #MAX_SOURCES};
 *       empty means any source.</li>
 * </ul>
 *
 * <p>The lists are immutable copies. An empty {@code servers} or {@code sources} list stands for the field being
 * absent from the extension (an encoded empty list is malformed, see {@link GrantsExtension#decode}).
 *
 * <p>The constructor throws {@link IllegalArgumentException} when a limit is broken, with a message that names the
 * field and the position (counted from 1), and {@link NullPointerException} for null lists or elements.
 */
public record CertknockGrants(List<PortGrant> grants, OptionalInt maxOpenSeconds, List<String> servers,
                              List<SourcePrefix> sources) {

    /** Most port grants one certificate may carry. */
    public static final int MAX_GRANTS = 64;
    /** Largest maxOpenSeconds: one day. */
    public static final int MAX_OPEN_SECONDS = 86_400;
    /** Most server names one certificate may carry. */
    public static final int MAX_SERVERS = 32;
    /** Longest server name in characters (Unicode code points): the DNS limit for a name. */
    public static final int MAX_SERVER_NAME_LENGTH = 253;
    /** Most source prefixes one certificate may carry. */
    public static final int MAX_SOURCES = 32;

    static final String MAX_OPEN_SECONDS_RANGE = "1-" + MAX_OPEN_SECONDS + " (one second to one day)";

    public CertknockGrants {
        grants = copyOf(grants, "grants", "grant", MAX_GRANTS);
        if (grants.isEmpty()) {
            throw new IllegalArgumentException("grants: the list is empty: a certificate must grant at least one port");
        }
        Objects.requireNonNull(maxOpenSeconds, "maxOpenSeconds (use OptionalInt.empty() for none)");
        if (maxOpenSeconds.isPresent()) {
            String problem = maxOpenSecondsProblem(maxOpenSeconds.getAsInt());
            if (problem != null) {
                throw new IllegalArgumentException("maxOpenSeconds: " + problem);
            }
        }
        servers = copyOf(servers, "servers", "server", MAX_SERVERS);
        for (int i = 0; i < servers.size(); i++) {
            String problem = serverNameProblem(servers.get(i));
            if (problem != null) {
                throw new IllegalArgumentException("server " + (i + 1) + ": " + problem);
            }
        }
        sources = copyOf(sources, "sources", "source", MAX_SOURCES);
    }

    /** Grants for these ports, with no maxOpenSeconds and any server and source. */
    public static CertknockGrants of(PortGrant... grants) {
        Objects.requireNonNull(grants, "grants");
        return of(Arrays.asList(grants));
    }

    /** Grants for these ports, with no maxOpenSeconds and any server and source. */
    public static CertknockGrants of(List<PortGrant> grants) {
        return new CertknockGrants(grants, OptionalInt.empty(), List.of(), List.of());
    }

    /** A copy with maxOpenSeconds set to {@code seconds} (1 to {@value #MAX_OPEN_SECONDS}). */
    public CertknockGrants withMaxOpenSeconds(int seconds) {
        return new CertknockGrants(grants, OptionalInt.of(seconds), servers, sources);
    }

    /** A copy without maxOpenSeconds. */
    public CertknockGrants withoutMaxOpenSeconds() {
        return new CertknockGrants(grants, OptionalInt.empty(), servers, sources);
    }

    /** A copy with these server names; an empty list means any server. */
    public CertknockGrants withServers(List<String> names) {
        return new CertknockGrants(grants, maxOpenSeconds, names, sources);
    }

    /** A copy with these source prefixes; an empty list means any source. */
    public CertknockGrants withSources(List<SourcePrefix> prefixes) {
        return new CertknockGrants(grants, maxOpenSeconds, servers, prefixes);
    }

    /**
     * True when every port of {@code requested} lies inside one single grant of the same protocol. A request that
     * spans two adjacent grants (tcp/22-23 against tcp/22 and tcp/23) is not permitted: ask for each separately.
     */
    public boolean permits(PortGrant requested) {
        Objects.requireNonNull(requested, "requested");
        for (PortGrant grant : grants) {
            if (grant.contains(requested)) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when the certificate may knock on the server configured with {@code name}: always when no servers are
     * listed, otherwise when one listed name equals it ignoring ASCII case (as DNS compares names, RFC 4343;
     * other characters must match exactly, so no locale-dependent folding applies).
     */
    public boolean permitsServer(String name) {
        Objects.requireNonNull(name, "name");
        if (servers.isEmpty()) {
            return true;
        }
        for (String server : servers) {
            if (equalsIgnoreAsciiCase(server, name)) {
                return true;
            }
        }
        return false;
    }

    /** True when {@code address} lies in one of the source prefixes, or when no sources are listed. */
    public boolean permitsSource(InetAddress address) {
        Objects.requireNonNull(address, "address");
        if (sources.isEmpty()) {
            return true;
        }
        for (SourcePrefix source : sources) {
            if (source.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** Why {@code seconds} cannot be a maxOpenSeconds, or null when it can. */
    static String maxOpenSecondsProblem(long seconds) {
        if (seconds < 1 || seconds > MAX_OPEN_SECONDS) {
            return seconds + " is outside " + MAX_OPEN_SECONDS_RANGE;
        }
        return null;
    }

    /** Why {@code name} cannot be a server name, or null when it can. */
    static String serverNameProblem(String name) {
        if (name.isEmpty()) {
            return "the name is empty: omit servers to allow any server, or write the server's configured name";
        }
        int length = name.codePointCount(0, name.length());
        if (length > MAX_SERVER_NAME_LENGTH) {
            return "the name is " + length + " characters long, more than the limit of " + MAX_SERVER_NAME_LENGTH;
        }
        for (int i = 0; i < name.length(); ) {
            int c = name.codePointAt(i);
            if (Character.isISOControl(c)) {
                return String.format("control character U+%04X at index %d: server names are printable text", c, i);
            }
            if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
                return String.format("unpaired UTF-16 surrogate U+%04X at index %d: not encodable as UTF-8", c, i);
            }
            i += Character.charCount(c);
        }
        return null;
    }

    private static <T> List<T> copyOf(List<T> list, String field, String element, int max) {
        Objects.requireNonNull(list, field + " (use an empty list for none)");
        if (list.size() > max) {
            throw new IllegalArgumentException(field + ": " + list.size() + " entries, more than the limit of " + max);
        }
        List<T> copy = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            T value = list.get(i);
            if (value == null) {
                throw new NullPointerException(element + " " + (i + 1) + " is null");
            }
            copy.add(value);
        }
        return List.copyOf(copy);
    }

    static boolean equalsIgnoreAsciiCase(String a, String b) {
        if (a.length() != b.length()) {
            return false;
        }
        for (int i = 0; i < a.length(); i++) {
            if (asciiLower(a.charAt(i)) != asciiLower(b.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static char asciiLower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }
}
