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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code knock-server run}: the server, until stopped (SIGTERM or Ctrl-C). */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start the server: receive knocks, validate them and open the granted ports until stopped.",
        footer = {"%nExample:%n  knock-server run --config /etc/certknock/config.yaml",
            "%nLog level: CERTKNOCK_LOG_LEVEL=DEBUG shows every drop (rate-limited)."})
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
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            systemd.stopping();
            server.close();
            stopped.countDown();
        }, "knock-server-shutdown"));
        stopped.await();
        return ExitCodes.OK;
    }
}
