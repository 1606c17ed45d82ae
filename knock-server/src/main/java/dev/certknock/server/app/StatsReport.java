package dev.certknock.server.app;

import dev.certknock.server.capture.PacketSource;
import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.firewall.Firewall;
import java.time.Clock;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The server's figures as one line: datagrams received, knocks accepted, drops by reason, issuers without
 * a fresh CRL, open grants, and the capture's own figures (kernel drops among them). Logged at
 * INFO every {@code logging.statsInterval} when anything changed, and once at stop, so a flood costs one
 * line per interval however large it is.
 */
final class StatsReport {

    private final KnockCounters counters;
    private final PacketSource capture;
    private final Firewall firewall;
    private final Clock clock;
    private String last = "";

    private final java.util.function.Supplier<Map<String, Long>> replies;

    StatsReport(KnockCounters counters, PacketSource capture, Firewall firewall, Clock clock,
            java.util.function.Supplier<Map<String, Long>> replies) {
        this.replies = replies;
        this.counters = counters;
        this.capture = capture;
        this.firewall = firewall;
        this.clock = clock;
    }

    /** The figures now. */
    String line() {
        StringJoiner drops = new StringJoiner(" ", "{", "}");
        counters.drops().forEach((reason, n) -> drops.add(reason + "=" + n));
        StringJoiner cap = new StringJoiner(" ", "{", "}");
        for (Map.Entry<String, Long> e : capture.figures().entrySet()) {
            cap.add(e.getKey() + "=" + e.getValue());
        }
        StringJoiner rep = new StringJoiner(" ", "{", "}");
        replies.get().forEach((k, v) -> rep.add(k + "=" + v));
        return "received " + counters.received() + ", accepted " + counters.accepted() + ", dropped " + drops
                + ", stale-CRL issuers " + counters.staleCrlIssuers() + ", open grants "
                + firewall.active(clock.instant()).size() + ", capture " + cap + ", replies " + rep;
    }

    /** The line, or null when nothing changed since the last line returned. */
    synchronized String lineIfChanged() {
        String now = line();
        if (now.equals(last)) {
            return null;
        }
        last = now;
        return now;
    }
}
