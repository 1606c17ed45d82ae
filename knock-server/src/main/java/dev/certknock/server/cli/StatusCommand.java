package dev.certknock.server.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.server.config.ConfigException;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.status.StatusClient;
import dev.certknock.server.status.StatusResult;
import dev.certknock.server.status.StatusText;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code knock-server status}: what the running server holds, over its status socket. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Ask the running server, over its status socket (a Unix domain socket, mode 0600), for its open "
                + "grants, CRL freshness per CA, counters and uptime."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {" 0:The server answered.", " 1:It did not answer (not running, permission denied, timeout).",
            " 3:Bad input (configuration)."},
        footer = {"%nExamples:", "  knock-server status --config /etc/certknock/config.yaml",
            "  knock-server status --socket /var/lib/certknock/status.sock --json"})
public final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Where where;

    static final class Where {
        @Option(names = "--config", paramLabel = "FILE", description = "The server configuration (for status.socket).")
        Path config;

        @Option(names = "--socket", paramLabel = "PATH", description = "The status socket itself.")
        Path socket;
    }

    @Option(names = "--json", description = "Print the server's answer as JSON.")
    boolean json;

    @Override
    public Integer call() {
        Path socket = where.socket;
        if (socket == null) {
            try {
                socket = ConfigLoader.load(where.config).statusSocket();
            } catch (ConfigException e) {
                throw new UserException(ExitCodes.BAD_INPUT, e.getMessage(), e);
            }
        }
        StatusResult result = StatusClient.ask(socket, StatusClient.DEFAULT_TIMEOUT);
        PrintWriter out = spec.commandLine().getOut();
        if (result instanceof StatusResult.Answered a) {
            if (json) {
                out.println(a.json());
            } else {
                StatusText.print(a.report(), out);
            }
            return ExitCodes.OK;
        }
        String why = result instanceof StatusResult.NotRunning n ? n.why() : ((StatusResult.Failed) result).why();
        throw new UserException(ExitCodes.FAILURE, why);
    }
}
