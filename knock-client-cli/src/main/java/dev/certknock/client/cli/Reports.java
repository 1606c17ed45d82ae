package dev.certknock.client.cli;

import dev.certknock.client.knock.AwaitListener;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.knock.OpenConfirmation;
import dev.certknock.client.knock.PreparedKnock;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockRequest;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The lines knock prints: one place, so the commands stay short and agree with each other. */
final class Reports {

    private Reports() {
    }

    static String sent(KnockReceipt r, String host) {
        return "sent a " + r.datagramSize() + "-byte knock to " + where(r.target(), host) + " from port "
                + r.sourcePort() + ": " + what(r.request());
    }

    static String dryRun(PreparedKnock p, String host, int knockPort) {
        return "dry run, nothing sent: a " + p.size() + "-byte knock for " + host + " port " + knockPort + ": "
                + what(p.request());
    }

    static void details(PrintWriter out, KnockSetup.Plan plan, long timestampMillis, String keyId) {
        X509Certificate client = plan.client().identity().certificate();
        X509Certificate server = plan.client().target().serverCertificate();
        out.println("  timestamp   " + java.time.Instant.ofEpochMilli(timestampMillis) + " (" + timestampMillis
                + " ms since the epoch, UTC)");
        out.println("  server key  " + keyId + " (" + server.getSubjectX500Principal().getName() + ", valid until "
                + server.getNotAfter().toInstant() + ")");
        out.println("  client      " + client.getSubjectX500Principal().getName() + " (valid until "
                + client.getNotAfter().toInstant() + ", grants " + plan.client().certificateGrants().grants() + ")");
        out.println("  bundle      " + plan.bundle());
    }

    static String what(KnockRequest r) {
        List<String> grants = new ArrayList<>();
        for (PortGrant g : r.grants()) {
            grants.add(g.toString());
        }
        StringBuilder s = new StringBuilder(String.join(" ", grants)).append(" for ").append(r.durationSeconds())
                .append(" s");
        List<String> declared = new ArrayList<>();
        r.declaredIpv4().ifPresent(a -> declared.add(a.getHostAddress()));
        r.declaredIpv6().ifPresent(a -> declared.add(a.getHostAddress()));
        if (!declared.isEmpty()) {
            s.append(", declaring ").append(String.join(" and ", declared));
        }
        return s.toString();
    }

    static String where(InetSocketAddress a, String host) {
        String address = a.getAddress().getHostAddress();
        return (host.equals(address) ? address : host + " (" + address + ")") + " port " + a.getPort();
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    static String opened(OpenConfirmation c, InetSocketAddress address, int port) {
        return "open: " + address.getAddress().getHostAddress() + " tcp/" + port + " accepts connections after "
                + seconds(c.elapsed()) + " (" + c.attempts() + " attempt" + (c.attempts() == 1 ? "" : "s") + ", "
                + c.knocksSent() + " knock" + (c.knocksSent() == 1 ? "" : "s") + " sent)";
    }

    static String timedOut(OpenConfirmation c, InetSocketAddress address, int port) {
        return "timed out: " + address.getAddress().getHostAddress() + " tcp/" + port + " did not accept a connection "
                + "within " + seconds(c.elapsed()) + " (" + c.attempts() + " attempts, " + c.knocksSent()
                + " knocks sent). The server may have refused the knock (it never answers either way): check its "
                + "audit log, your grants and the server's clock.";
    }

    /** Progress lines on the error stream while waiting. */
    static AwaitListener progress(PrintWriter err) {
        return new AwaitListener() {
            @Override
            public void knockResent(KnockReceipt receipt, int knocksSent, Duration elapsed) {
                err.println("knock: not open after " + seconds(elapsed) + ": knocked again (knock " + knocksSent
                        + ", from port " + receipt.sourcePort() + ")");
                err.flush();
            }
        };
    }
}
