package dev.certknock.server.firewall;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.grant.GrantDecision;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ends the connections a grant let in, by deleting their conntrack entries ({@code conntrack -D}), so that
 * revocation reaches established sessions too: without an entry, the next packet of such a connection is
 * no longer {@code ESTABLISHED} and meets the protected port's drop rule. Used only when the configuration
 * asks for it ({@code firewall.cutOnRevoke}); needs the {@code conntrack} program and CAP_NET_ADMIN.
 * Arguments go as an argv array, built from validated values (an address, a protocol, port numbers).
 */
public final class ConntrackCutter {

    private static final Pattern DELETED = Pattern.compile("([0-9]+) flow entr");

    private final ProcessRunner runner;

    public ConntrackCutter(ProcessRunner runner) {
        this.runner = runner;
    }

    /** The conntrack invocations that cut the grant's connections, one per port range. */
    public static List<List<String>> commands(GrantDecision grant) {
        List<List<String>> out = new ArrayList<>();
        String family = grant.address() instanceof Inet6Address ? "ipv6" : "ipv4";
        for (PortGrant g : grant.grants()) {
            String ports = g.isSinglePort() ? Integer.toString(g.firstPort()) : g.firstPort() + "-" + g.lastPort();
            out.add(List.of("conntrack", "-D", "-f", family, "-s", grant.address().getHostAddress(),
                    "-p", g.protocol().label(), "--dport", ports));
        }
        return out;
    }

    /**
     * Deletes the grant's connections.
     *
     * @return how many conntrack entries were deleted
     * @throws FirewallException when conntrack cannot run or fails for another reason than finding nothing
     */
    public int cut(GrantDecision grant) throws FirewallException {
        int deleted = 0;
        for (List<String> argv : commands(grant)) {
            ProcessRunner.Result r;
            try {
                r = runner.run(argv);
            } catch (ProcessRunner.RunException e) {
                throw new FirewallException("cannot cut connections with conntrack (is the conntrack package installed?): "
                        + e.getMessage(), e);
            }
            // conntrack prints "N flow entries have been deleted." and exits 1 when N is 0
            Matcher m = DELETED.matcher(r.stderr() + r.stdout());
            if (m.find()) {
                deleted += Integer.parseInt(m.group(1));
            } else if (!r.succeeded()) {
                throw new FirewallException("conntrack failed: " + r.describe(), null);
            }
        }
        return deleted;
    }
}
