package dev.certknock.server.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.server.app.KnockServer;
import dev.certknock.server.app.ServerMaterial;
import dev.certknock.server.systemd.Notifier;
import dev.certknock.server.systemd.ServiceNotifications;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import dev.certknock.server.reload.ReloadListener;
import dev.certknock.server.reload.ReloadResult;
import dev.certknock.server.reload.ReloadThread;
import dev.certknock.server.reload.Signals;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code knock-server run}: the server, until stopped (SIGTERM or Ctrl-C: exit 0 after firewall.onStop); SIGHUP
 * reloads the configuration and reopens the audit log (docs/CONFIGURATION.md, "Reload").
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start the server: receive knocks, validate them and open the granted ports until stopped.",
        footer = {"%nExample:%n  knock-server run --config /etc/certknock/config.yaml",
            "%nSignals: SIGHUP reloads the configuration (a bad one is refused and logged; the running one stays) and "
                + "reopens the audit log; SIGTERM and SIGINT stop the server (exit 0).",
            "%nLog level: CERTKNOCK_LOG_LEVEL=DEBUG shows every drop (rate-limited)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {" 0:Stopped by SIGTERM or SIGINT, after firewall.onStop.", " 1:Could not start (the message says why).",
            " 2:Invalid command line.", " 3:Invalid configuration (every problem is printed with its file:line).",
            " 4:Credentials unusable: every problem is a wrong bundle password.", "70:Internal error (please report it)."})
public final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The server configuration.")
    Path config;

    @Override
    public Integer call() throws InterruptedException {
        ServerMaterial material = CheckConfigCommand.load(config);
        KnockServer server;
        try {
            server = KnockServer.start(material, Clock.systemUTC());
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot start: " + e.getMessage(), e);
        }
        // READY=1 now: firewall set up and capture started (docs/DEPLOYMENT.md, systemd). Nothing without NOTIFY_SOCKET.
        ServiceNotifications systemd = ServiceNotifications.ready(Notifier.fromEnvironment(System.getenv()),
                System.getenv(), server::vitals, server::statsLine);
        // RELOADING=1 while a SIGHUP's reload runs, READY=1 again when it has ended, applied or refused.
        server.addReloadListener(new ReloadListener() {
            @Override
            public void reloading() {
                systemd.reloading();
            }

            @Override
            public void reloaded(ReloadResult result) {
                systemd.reloaded(result instanceof ReloadResult.Applied ? "reload applied"
                        : "reload refused, the running configuration stays (see the log)");
            }
        });
        // SIGHUP reloads on a thread of its own; SIGTERM and SIGINT end the wait below, and the server's stop
        // behaviour (firewall.onStop) runs here, so the process exits 0. The hook covers any other way out.
        CountDownLatch stop = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            systemd.stopping();
            server.close();
        }, "knock-server-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (ReloadThread reloads = new ReloadThread(server::reload)) {
            Signals.install(reloads::request, stop::countDown);
            stop.await();
        } finally {
            systemd.stopping();
            server.close();
        }
        return ExitCodes.OK;
    }
}
