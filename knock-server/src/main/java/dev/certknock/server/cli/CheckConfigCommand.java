package dev.certknock.server.cli;

import dev.certknock.server.config.ServerConfig;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.server.app.ConfigCheck;
import dev.certknock.server.app.ServerMaterial;
import dev.certknock.server.config.ConfigException;
import dev.certknock.server.crl.CaKey;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import javax.security.auth.x500.X500Principal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code knock-server check-config [--online] FILE}: every error and warning of the configuration and of what it
 * points at (see {@link ConfigCheck}), then stops. Exit code 0 when there is no error (warnings allowed), 4 when
 * every error is a bundle password that does not open its bundle, 3 when there is any other error.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = {"Check a configuration file and everything it points at (bundles, passwords, CA certificates, "
                + "state paths, CRL sources) without starting, and report every problem at once, each at its line.",
            "Warns about password files and bundles that group or others can read. With --online, also fetches every "
                + "CRL source once and verifies it (signature by a configured CA, freshness)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:No error (warnings may be printed).", "2:Invalid command line.",
            "3:At least one error: the configuration, a file it names, or (with --online) a CRL source.",
            "4:Credentials unusable: every error is a wrong bundle password.",
            "70:Internal error (please report it)."},
        footer = {"%nExamples:%n  knock-server check-config /etc/certknock/config.yaml",
            "  sudo -u certknock knock-server check-config --online /etc/certknock/config.yaml"})
public final class CheckConfigCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--online", description = "Also fetch every CRL source once (each within crl.connectTimeout + "
            + "crl.responseTimeout) and verify it against the configured CA certificates: signature, issuer and "
            + "freshness (nextUpdate plus crl.staleGrace). A source that fails is an error.")
    boolean online;

    @Parameters(index = "0", paramLabel = "FILE", description = "The configuration file (config.yaml).")
    Path file;

    @Override
    public Integer call() {
        ConfigCheck.Report report = online ? ConfigCheck.online(file, System.getenv(), Clock.systemUTC())
                : ConfigCheck.offline(file, System.getenv());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.printf("%s: %s%n", file, report.ok() ? "OK" + (report.warnings().isEmpty() ? ""
                : " (" + count(report.warnings().size(), "warning") + ")") : count(report.errors().size(), "error") + ", "
                + count(report.warnings().size(), "warning"));
        if (report.material() != null) {
            summary(out, report.material());
        }
        for (ConfigCheck.SourceOutcome s : report.sources()) {
            if (s instanceof ConfigCheck.SourceOutcome.Good good) {
                out.printf("  CRL source      %s: ok, issuer %s, number %s, nextUpdate %s, %d revoked%n", s.source(),
                        good.crl().issuer().getName(), good.crl().crlNumber(), good.crl().nextUpdate(), good.crl().entries());
            } else {
                out.printf("  CRL source      %s: FAILED: %s%n", s.source(), ((ConfigCheck.SourceOutcome.Bad) s).reason());
            }
        }
        for (ConfigException.Problem w : report.warnings()) {
            out.printf("  warning: %s%n", w);
        }
        if (online && report.material() == null) {
            out.printf("  note: --online fetched no CRL source: fix the errors first%n");
        }
        if (ConfigCheck.runningAsRoot()) {
            out.printf("  note: checked as root, who may read and write what the server's user may not: run check-config "
                    + "as that user (sudo -u certknock knock-server check-config ...)%n");
        }
        out.flush();
        for (ConfigException.Problem e : report.errors()) {
            err.printf("error: %s%n", e);
        }
        err.flush();
        return exitCode(report.errors());
    }

    /** 0 without errors; 4 when each error is a wrong bundle password; 3 when any other error is among them. */
    static int exitCode(List<ConfigException.Problem> errors) {
        if (errors.isEmpty()) {
            return ExitCodes.OK;
        }
        return errors.stream().allMatch(ServerMaterial::wrongPassword) ? ExitCodes.BAD_CREDENTIALS : ExitCodes.BAD_INPUT;
    }

    private static String count(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }

    private static void summary(PrintWriter out, ServerMaterial m) {
        out.printf("  server name     %s%n", m.config().server().name());
        for (ServerPrivateKey k : m.keys()) {
            out.printf("  knock key       %s id %s%n", k.publicKey().suite(), k.publicKey().keyIdHex());
        }
        for (X509Certificate a : m.trust().anchors()) {
            out.printf("  trust anchor    %s (until %s)%n", a.getSubjectX500Principal().getName(), a.getNotAfter().toInstant());
        }
        out.printf("  intermediates   %d%n", m.trust().intermediates().size());
        out.printf("  CRL sources     %s%n", m.config().crl().sources().stream().map(s -> s.url().toString()).toList());
        out.printf("  protects        %s%n", m.config().protect());
        out.printf("  capture         %s on %s port %d%n", m.config().capture().mode(), m.config().capture().address(),
                m.config().capture().port());
        out.printf("  firewall        %s (at most %d elements open, %d per certificate)%n",
                m.config().firewall().backend().name().toLowerCase(java.util.Locale.ROOT),
                m.config().firewall().maxElements(), m.config().firewall().maxElementsPerCertificate());
        ServerConfig.Metrics metrics = m.config().metrics();
        out.printf("  metrics         %s%n", metrics == null ? "off (no metrics section)"
                : dev.certknock.server.metrics.MetricsEndpoint.url(new java.net.InetSocketAddress(
                        metrics.address(), metrics.port())) + (metrics.port() == 0 ? " (port 0: any free port)" : ""));
        out.printf("  status socket   %s%n", m.config().statusSocket());
        if (metrics != null && !metrics.loopback()) {
            out.printf("  warning: metrics.address %s is not a loopback address: the endpoint has no authentication; "
                    + "let only the scraper reach port %d%n", metrics.address(), metrics.port());
        }
        ServerConfig.Knock knock = m.config().knock();
        out.printf("  knock versions  %s, replies %s%n", knock.acceptVersion1() ? "2 and 1" : "2",
                knock.replies() ? "on (at most " + knock.repliesPerSecond() + "/s)" : "off");
        out.printf("  replay store    %s%n", knock.sharedReplayStore() ? knock.replayStoreForLogs() + " (gateway group; "
                + knock.replayStoreTimeout().toMillis() + " ms deadline, during an outage knocks are "
                + (knock.replayStoreOutage() == ServerConfig.ReplayStoreOutage.LOCAL_ONLY ? "granted locally" : "refused")
                + ")" : "local (this gateway's journal only)");
        if (knock.replayStoreOutage() == ServerConfig.ReplayStoreOutage.LOCAL_ONLY && knock.sharedReplayStore()) {
            out.printf("  warning: knock.replayStoreOutage is local-only: while the replay store does not answer, a knock "
                    + "granted here can be replayed at another gateway of the group within its window; remove the "
                    + "setting to refuse knocks then (fail closed)%n");
        }
        if (knock.acceptVersion1()) {
            out.printf("  warning: knock.acceptVersion1 is true: a v1 knock that declares no address can be re-sent by "
                    + "whoever sees it, from their own address, and opens the ports there (declaredAddress %s); "
                    + "move clients to v2 and remove the setting%n", knock.declaredAddress().name().toLowerCase(java.util.Locale.ROOT)
                    .replace('_', '-'));
        }
        if (!knock.replies()) {
            out.printf("  warning: knock.replies is false: clients behind NAT cannot learn their public address and must "
                    + "declare it by hand (knock --declare-ip)%n");
        }
        if (m.config().crl().sources().isEmpty()) {
            out.printf("  warning: no CRL sources: every knock will be refused (fail closed) until a CRL is cached%n");
        }
        sharedNames(m.trust().caCertificates()).forEach((name, keys) -> out.printf("  warning: %d CA certificates with "
                + "different keys share the subject name %s: each CA key needs its own CRL (list a source for each), and "
                + "logs and grants name them alike; give a new CA a new name where you can%n", keys, name));
    }

    /** Subject names held by CA certificates of more than one key, with the number of keys. */
    static Map<String, Integer> sharedNames(List<X509Certificate> cas) {
        Map<X500Principal, Set<CaKey>> keys = new LinkedHashMap<>();
        for (X509Certificate ca : cas) {
            keys.computeIfAbsent(ca.getSubjectX500Principal(), k -> new HashSet<>()).add(CaKey.of(ca));
        }
        Map<String, Integer> shared = new LinkedHashMap<>();
        keys.forEach((name, set) -> {
            if (set.size() > 1) {
                shared.put(name.getName(), set.size());
            }
        });
        return shared;
    }

    static ServerMaterial load(Path file) {
        try {
            return ServerMaterial.load(file);
        } catch (ConfigException e) {
            // The same exit code as check-config for the same file: 4 when every problem is a wrong bundle password.
            throw new UserException(exitCode(e.problems()), e.getMessage(), e);
        }
    }
}
