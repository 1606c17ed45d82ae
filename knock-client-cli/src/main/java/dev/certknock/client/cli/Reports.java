package dev.certknock.client.cli;

import dev.certknock.client.knock.AddressOrigin;
import dev.certknock.client.knock.AwaitListener;
import dev.certknock.client.knock.KnockOutcome;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.knock.OpenConfirmation;
import dev.certknock.client.knock.PreparedKnock;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockVersion;
import dev.certknock.protocol.knock.KnockRequest;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The lines knock prints: one place, so the commands stay short and agree with each other. */
final class Reports {

    private Reports() {
    }

    static String sent(KnockReceipt r, String host) {
        String knocks = r.knocksSent() == 1 ? "a " + r.datagramSize() + "-byte knock"
                : r.knocksSent() + " knocks (the last " + r.datagramSize() + " bytes)";
        return "sent " + knocks + " to " + where(r.target(), host) + " from port " + r.sourcePort() + ": "
                + what(r.request()) + (r.version() == KnockVersion.V1 ? " (protocol v1)" : "");
    }

    /** One line per address the server reported, each of which made knock knock again. */
    static List<String> learned(KnockReceipt r) {
        List<String> lines = new ArrayList<>();
        for (InetAddress a : r.learnedAddresses()) {
            lines.add("learned address " + a.getHostAddress() + " from the server; knocked again");
        }
        return lines;
    }

    static String confirmed(KnockReceipt r, KnockOutcome.Confirmed c) {
        List<String> grants = new ArrayList<>();
        for (PortGrant g : r.grants()) {
            grants.add(g.toString());
        }
        return "opened " + String.join(" ", grants) + " for " + c.openSeconds() + " s for "
                + c.observedSource().getAddress().getHostAddress() + " (confirmed by the server)";
    }

    /** Why a knock may be unconfirmed, with what is known. */
    static String unconfirmed(KnockReceipt r, KnockOutcome.Unconfirmed u, Duration timeout, CertknockGrants grants) {
        StringBuilder s = new StringBuilder("sent; no reply within ").append(plainSeconds(timeout))
                .append(" (a v1 server, or the knock or its reply was lost; a server also stays silent when it "
                        + "refuses a knock: check your grants and the clocks)");
        if (u.portUnreachable()) {
            s.append(". The server's host reported that nothing listens on UDP port ").append(r.target().getPort());
        }
        List<String> outside = new ArrayList<>();
        r.declaredIpv4().filter(a -> !grants.permitsSource(a)).ifPresent(a -> outside.add(a.getHostAddress()));
        r.declaredIpv6().filter(a -> !grants.permitsSource(a)).ifPresent(a -> outside.add(a.getHostAddress()));
        if (!outside.isEmpty()) {
            s.append(". The knock declared ").append(String.join(" and ", outside)).append(", outside your "
                    + "certificate's sources ").append(grants.sources()).append(": the server refuses that; "
                    + "knock from a network inside them");
        }
        return s.toString();
    }

    /** The largest clock offset knock accepts without a warning. */
    static final Duration CLOCK_WARNING = Duration.ofSeconds(5);

    /** A warning when the server's clock is off by more than 5 s. */
    static Optional<String> clockWarning(KnockOutcome outcome) {
        if (!(outcome instanceof KnockOutcome.Confirmed c) || c.clockOffset().abs().compareTo(CLOCK_WARNING) <= 0) {
            return Optional.empty();
        }
        return Optional.of("warning: the server's clock is " + seconds(c.clockOffset().abs())
                + (c.clockOffset().isNegative() ? " behind" : " ahead of") + " this host's; the server accepts "
                + "knocks only within its timestamp window (30 s unless configured) and does not answer others: "
                + "set the clocks right (NTP)");
    }

    static String origin(AddressOrigin origin) {
        return switch (origin) {
            case GIVEN -> "given with --declare-ip";
            case CACHED -> "the address this server reported last time";
            case ROUTE -> "the local address of the route to the server";
            case LEARNED -> "reported by the server to the knock before";
            case NONE -> "nothing declared";
        };
    }

    /** "1 s", "0.5 s": seconds without trailing zeros. */
    static String plainSeconds(Duration d) {
        return BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString() + " s";
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
        out.println(plan.bundle() != null ? "  bundle      " + plan.bundle()
                : "  key         on the PKCS#11 token (" + plan.client().identity().credential().signer() + ")");
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
                + " knocks sent). The server may have refused the knock (it never says so): check its "
                + "audit log, your grants and the server's clock.";
    }

    /** Progress lines on the error stream while waiting. */
    static AwaitListener progress(PrintWriter err) {
        return new AwaitListener() {
            @Override
            public void knockResent(KnockReceipt receipt, int knocksSent, Duration elapsed) {
                err.println("knock: not open after " + seconds(elapsed) + ": knocked again (knock " + knocksSent
                        + ", from port " + receipt.sourcePort() + (receipt.confirmed() ? ", confirmed by the server"
                        : "") + ")");
                err.flush();
            }
        };
    }
}
