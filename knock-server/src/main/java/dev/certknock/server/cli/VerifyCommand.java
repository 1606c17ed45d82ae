package dev.certknock.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.server.app.KnockVerifier;
import dev.certknock.server.app.ServerMaterial;
import dev.certknock.server.event.LogText;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.Verdict;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code knock-server verify}: why was this knock refused? */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Run a saved knock datagram through the server's checks without touching any firewall or "
                + "replay state, and print the verdict: the grants it would open, or the reason it is dropped.",
            "A dropped knock that opened with the server's key names its certificate (subject, serial, issuer) and, "
                + "when a CRL held lists it, the revocation date and reason. Only warnings are logged.",
            "The packet file is a datagram as 'knock --save-packet' writes it, or one the server kept under "
                + "diagnostics.keepRefused."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {" 0:The knock would be accepted.", "11:The knock would be dropped (the reason is printed).",
            " 3:Bad input (configuration, packet file, address).", "70:Internal error."},
        footer = {"%nExamples:",
            "  knock --dry-run --save-packet knock.bin gw1 tcp/22",
            "  knock-server verify --config /etc/certknock/config.yaml --source 198.51.100.7 --at packet knock.bin",
            "  knock-server verify --config config.yaml --source 2001:db8::7 --json knock.bin"})
public final class VerifyCommand implements Callable<Integer> {

    /** Exit code when the knock would be dropped. */
    public static final int DROPPED = 11;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The server configuration.")
    Path config;

    @Option(names = "--source", required = true, paramLabel = "ADDR",
            description = "The address the datagram came from (IPv4 or IPv6 literal).")
    String source;

    @Option(names = "--at", paramLabel = "WHEN", defaultValue = "now",
            description = "When to judge it: now (default), packet (at the knock's own timestamp), or an ISO-8601 instant.")
    String at;

    @Option(names = "--json", description = "Print the verdict as JSON.")
    boolean json;

    @Parameters(index = "0", paramLabel = "PACKET_FILE", description = "The datagram, as saved by knock --save-packet.")
    Path packet;

    @Override
    public Integer call() {
        try (WarningsOnly quiet = new WarningsOnly()) {
            return judge();
        }
    }

    private int judge() {
        ServerMaterial material = CheckConfigCommand.load(config);
        byte[] datagram;
        try {
            datagram = Files.readAllBytes(packet);
        } catch (IOException e) {
            throw new UserException(ExitCodes.BAD_INPUT, "cannot read " + packet + ": " + e.getMessage(), e);
        }
        InetSocketAddress from = new InetSocketAddress(literal(source), 0);
        Instant when = switch (at) {
            case "now" -> Clock.systemUTC().instant();
            case "packet" -> KnockVerifier.claimedTime(material, datagram).orElseThrow(() -> new UserException(ExitCodes.BAD_INPUT,
                    "--at packet: the datagram does not open with this server's key, so it has no readable timestamp"));
            default -> parseInstant(at);
        };
        KnockVerifier verifier = KnockVerifier.at(material, when);
        Verdict v = verifier.verify(datagram, from);
        PrintWriter out = spec.commandLine().getOut();
        if (v instanceof Verdict.Accepted a) {
            if (json) {
                out.println(toJson(v, when, Optional.empty(), null));
            } else {
                GrantDecision d = a.decision();
                out.printf("ACCEPTED at %s: would open %s for %s for %d s%n  certificate %s, serial %s, issuer %s%n", when,
                        d.grants(), d.address().getHostAddress(), d.duration().toSeconds(), LogText.of(d.subject().getName()),
                        d.serial().toString(16), LogText.of(d.issuer().getName()));
            }
            return ExitCodes.OK;
        }
        Verdict.Dropped d = (Verdict.Dropped) v;
        Optional<KnockVerifier.Holder> holder = verifier.holder(datagram);
        String hint = hint(d, holder.isPresent() ? KnockVerifier.claimedTime(material, datagram) : Optional.empty());
        if (json) {
            out.println(toJson(v, when, holder, hint));
            return DROPPED;
        }
        out.printf("DROPPED at %s: %s in %s (%s)%n", when, d.reason(), d.stage(), LogText.of(d.detail()));
        holder.ifPresent(h -> {
            X509Certificate c = h.certificate();
            out.printf("  certificate %s, serial %s, issuer %s%n", LogText.of(c.getSubjectX500Principal().getName()),
                    c.getSerialNumber().toString(16), LogText.of(c.getIssuerX500Principal().getName()));
            h.revocation().ifPresent(r -> out.printf("  revoked %s%s, reason %s%n", r.date(),
                    r.certificate().equals(c) ? "" : " (its CA certificate " + LogText.of(r.certificate()
                            .getSubjectX500Principal().getName()) + ", serial " + r.certificate().getSerialNumber().toString(16) + ")",
                    r.reason().map(Enum::name).orElse("none given")));
        });
        if (hint != null) {
            out.printf("  hint: %s%n", hint);
        }
        return DROPPED;
    }

    /**
     * Judged now, a knock saved or kept earlier is out of the timestamp window whatever else it holds: say that
     * {@code --at packet} judges it at its own time, as the server did when it arrived.
     */
    private String hint(Verdict.Dropped d, Optional<Instant> claimed) {
        boolean timestamp = d.reason() == DropReason.TIMESTAMP_TOO_OLD || d.reason() == DropReason.TIMESTAMP_IN_FUTURE;
        if (!timestamp || !"now".equals(at)) {
            return null;
        }
        return "judged now" + claimed.map(t -> "; the knock says it was sent at " + t).orElse("")
                + ": run again with --at packet to judge it at its own timestamp, as the server did when it arrived";
    }

    private static String toJson(Verdict v, Instant when, Optional<KnockVerifier.Holder> holder, String hint) {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode n = m.createObjectNode();
        n.put("at", when.toString());
        n.put("source", v.source().getAddress().getHostAddress());
        if (v instanceof Verdict.Accepted a) {
            GrantDecision d = a.decision();
            n.put("verdict", "accepted");
            n.put("address", d.address().getHostAddress());
            var grants = n.putArray("grants");
            d.grants().forEach(g -> grants.addObject().put("protocol", g.protocol().label()).put("first", g.firstPort())
                    .put("last", g.lastPort()));
            n.put("durationSeconds", d.duration().toSeconds());
            n.put("subject", d.subject().getName());
            n.put("serial", d.serial().toString(16));
            n.put("issuer", d.issuer().getName());
        } else {
            Verdict.Dropped d = (Verdict.Dropped) v;
            n.put("verdict", "dropped");
            n.put("reason", d.reason().name());
            n.put("stage", d.stage());
            n.put("detail", d.detail());
            holder.ifPresent(h -> {
                X509Certificate c = h.certificate();
                n.put("subject", c.getSubjectX500Principal().getName());
                n.put("serial", c.getSerialNumber().toString(16));
                n.put("issuer", c.getIssuerX500Principal().getName());
                h.revocation().ifPresent(r -> {
                    ObjectNode rn = n.putObject("revocation");
                    rn.put("subject", r.certificate().getSubjectX500Principal().getName());
                    rn.put("serial", r.certificate().getSerialNumber().toString(16));
                    rn.put("date", r.date().toString());
                    rn.put("reason", r.reason().map(Enum::name).orElse(null));
                });
            });
            if (hint != null) {
                n.put("hint", hint);
            }
        }
        try {
            return m.writeValueAsString(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InetAddress literal(String text) {
        if (!text.matches("[0-9a-fA-F:.]+")) {
            throw new UserException(ExitCodes.BAD_INPUT, "--source must be an IPv4 or IPv6 address literal, not '" + text + "'");
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new UserException(ExitCodes.BAD_INPUT, "--source '" + text + "' is not an address", e);
        }
    }

    private static Instant parseInstant(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new UserException(ExitCodes.BAD_INPUT,
                    "--at must be now, packet or an ISO-8601 instant such as 2026-11-22T10:00:00Z, not '" + text + "'");
        }
    }
}
