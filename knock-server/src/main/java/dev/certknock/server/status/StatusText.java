package dev.certknock.server.status;

import java.io.PrintWriter;
import java.time.Duration;

/** A {@link StatusReport} for people: one section per part, times in UTC. */
public final class StatusText {

    private StatusText() {
    }

    public static void print(StatusReport r, PrintWriter out) {
        out.printf("knock-server %s (%s), up %s since %s%n", r.server(), r.version(), uptime(r.uptimeSeconds()),
                r.startedAt());
        StatusReport.Reloads reloads = r.reloads();
        if (reloads != null) {
            out.printf("reloads: %d applied, %d refused%s%n", reloads.applied(), reloads.refused(),
                    reloads.lastAt() == null ? "" : "; last at " + reloads.lastAt() + ": " + reloads.last());
        }
        StatusReport.Counters c = r.counters();
        out.printf("knocks: received %d, accepted %d, dropped %s%n", c.received(), c.accepted(),
                c.dropped().isEmpty() ? "none" : new java.util.TreeMap<>(c.dropped()));
        StatusReport.KeptRefused kept = r.keptRefused();
        if (kept != null) {
            out.printf("refused datagrams kept: %d written, not kept: %d over the rate, %d queue full, %d failed%n",
                    kept.written(), kept.rateLimited(), kept.queueFull(), kept.failed());
        }
        out.printf("open grants: %d (%d firewall element(s))%n", r.grants().size(), r.openElements());
        for (StatusReport.Grant g : r.grants()) {
            long left = Math.max(0, Duration.between(r.at(), g.expiresAt()).toSeconds());
            out.printf("  %s %s until %s (%d s left): %s, serial %s, issuer %s%n", g.address(), String.join(" ", g.ports()),
                    g.expiresAt(), left, g.subject(), g.serial(), g.issuer());
        }
        out.printf("CRLs: %d trusted CA key(s), %d without a fresh CRL%n", r.crls().size(),
                r.crls().stream().filter(x -> !x.fresh()).count());
        for (StatusReport.Crl x : r.crls()) {
            if (x.crlNumber() == null) {
                out.printf("  %s (key %s): NO CRL held: its certificates' knocks are refused%n", x.issuer(), x.keyId());
            } else {
                out.printf("  %s (key %s): %s, number %s, thisUpdate %s, nextUpdate %s, %d entries%n", x.issuer(),
                        x.keyId(), x.fresh() ? "fresh" : "STALE", x.crlNumber(), x.thisUpdate(), x.nextUpdate(),
                        x.entries());
            }
        }
    }

    static String uptime(long seconds) {
        long d = seconds / 86_400;
        long h = seconds % 86_400 / 3600;
        long m = seconds % 3600 / 60;
        long s = seconds % 60;
        return (d > 0 ? d + "d " : "") + String.format(java.util.Locale.ROOT, "%02d:%02d:%02d", h, m, s);
    }
}
