package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import java.util.ArrayList;
import java.util.List;

/**
 * The grants of a client certificate as the command line gives them, checked and turned into
 * {@link CertknockGrants}.
 *
 * @param grants {@code tcp/22}, {@code udp/8000-8100}, ...
 * @param maxOpenSeconds the longest opening in seconds, or null for none
 * @param servers server names the certificate may knock on (empty: any)
 * @param sources client address prefixes (empty: any)
 */
public record GrantOptions(List<String> grants, Integer maxOpenSeconds, List<String> servers, List<String> sources) {

    public GrantOptions {
        grants = grants == null ? List.of() : List.copyOf(grants);
        servers = servers == null ? List.of() : List.copyOf(servers);
        sources = sources == null ? List.of() : List.copyOf(sources);
    }

    /** The grants value; refuses empty grants, bad ports and grants that overlap one another. */
    public CertknockGrants toGrants() {
        if (grants.isEmpty()) {
            throw CaException.badInput("no --grant given: a client certificate must grant at least one port, e.g. --grant tcp/22");
        }
        List<PortGrant> parsed = new ArrayList<>();
        for (String text : grants) {
            PortGrant g;
            try {
                g = PortGrant.parse(text);
            } catch (IllegalArgumentException e) {
                throw CaException.badInput("--grant " + text + ": " + e.getMessage());
            }
            for (PortGrant earlier : parsed) {
                if (earlier.overlaps(g)) {
                    throw CaException.badInput("--grant " + earlier + " and --grant " + g + " overlap: give each port once"
                            + (earlier.contains(g) ? " (" + earlier + " already contains " + g + ")"
                                    : g.contains(earlier) ? " (" + g + " already contains " + earlier + ")"
                                    : ", e.g. as one range"));
                }
            }
            parsed.add(g);
        }
        List<SourcePrefix> prefixes = new ArrayList<>();
        for (String text : sources) {
            try {
                prefixes.add(SourcePrefix.parse(text));
            } catch (IllegalArgumentException e) {
                throw CaException.badInput("--source " + text + ": " + e.getMessage());
            }
        }
        try {
            CertknockGrants g = CertknockGrants.of(parsed);
            if (maxOpenSeconds != null) {
                g = g.withMaxOpenSeconds(maxOpenSeconds);
            }
            if (!servers.isEmpty()) {
                g = g.withServers(servers);
            }
            if (!prefixes.isEmpty()) {
                g = g.withSources(prefixes);
            }
            return g;
        } catch (IllegalArgumentException e) {
            throw CaException.badInput(e.getMessage());
        }
    }

    /** One line for the inventory: {@code tcp/22 udp/8000-8100; max-open 300s; servers a,b; sources p}. */
    public static String summary(CertknockGrants g) {
        StringBuilder s = new StringBuilder();
        g.grants().forEach(p -> s.append(s.length() == 0 ? "" : " ").append(p));
        g.maxOpenSeconds().ifPresent(m -> s.append("; max-open ").append(m).append('s'));
        if (!g.servers().isEmpty()) {
            s.append("; servers ").append(String.join(",", g.servers()));
        }
        if (!g.sources().isEmpty()) {
            s.append("; sources ").append(String.join(",", g.sources().stream().map(Object::toString).toList()));
        }
        return s.toString();
    }
}
