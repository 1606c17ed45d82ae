package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.client.knock.AwaitListener;
import dev.certknock.client.knock.KnockException;
import dev.certknock.client.knock.KnockOutcome;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.proxy.SshProxy;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code knock ssh-proxy}: knock, wait for the port, then relay stdin and stdout to it. */
@Command(name = "ssh-proxy", mixinStandardHelpOptions = true,
        description = {"Knocks, waits until PORT accepts connections, then relays standard input and output to "
                + "that connection: an ssh ProxyCommand that knocks by itself. Writes only the connection's bytes "
                + "to standard output; messages go to standard error.",
            "Without GRANTs it asks for the target's default grant that contains tcp/PORT (an error when none "
                + "does), else for tcp/PORT. The password comes from --password-file, --password-env, the target's "
                + "passwordFile, or a prompt on the terminal (/dev/tty), which ssh leaves to its ProxyCommand."},
        footerHeading = "%nExample (~/.ssh/config):%n",
        footer = {
            "  Host gw1.example.test",
            "      ProxyCommand knock ssh-proxy gw1 %%p"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {" 0:Relayed until the server closed the connection.",
            " 1:Failed (network); the message says why.",
            " 2:Invalid command line.",
            " 3:Invalid input (a certificate file, the targets file).",
            " 4:Credentials unusable (wrong password, expired certificate).",
            "10:The port did not open in time (the knock was sent).",
            "11:Your certificate does not permit this request.",
            "70:Internal error (please report it)."})
public final class SshProxyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ParentCommand
    KnockCommand parent;

    @Parameters(index = "0", paramLabel = "TARGET", description = "Target name, host name or address.")
    String target;

    @Parameters(index = "1", paramLabel = "PORT", description = "The TCP port to connect to (ssh's %%p).")
    int port;

    @Parameters(index = "2..*", paramLabel = "GRANT", description = "Ports to open (default: the target's, else tcp/PORT).")
    List<String> grants = new ArrayList<>();

    @Mixin
    KnockArgs args;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long to wait for the port to open (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (port < 1 || port > 65535) {
            throw new UserException(ExitCodes.USAGE, "port " + port + " is outside 1-65535");
        }
        if (timeoutSeconds < 1) {
            throw new UserException(ExitCodes.USAGE, "--timeout needs at least 1 second");
        }
        CliContext context = parent.context();
        KnockSetup.Plan plan = KnockSetup.plan(args, context, target, grants,
                () -> List.of(PortGrant.single(Protocol.TCP, port)), port,
                m -> err.println("knock ssh-proxy: warning: " + m));
        AwaitListener listener = args.verbose ? Reports.progress(err) : AwaitListener.NONE;
        try {
            SshProxy.Outcome outcome = new SshProxy(plan.client()).run(plan.grants(), plan.options(), port,
                    Duration.ofSeconds(timeoutSeconds), context.stdin(), context.stdout(), listener);
            KnockReceipt sent = outcome.knock();
            Reports.clockWarning(sent.outcome()).ifPresent(w -> err.println("knock ssh-proxy: " + w));
            if (args.verbose || !outcome.connected()) {
                err.println("knock ssh-proxy: " + Reports.sent(sent, plan.client().target().host()));
                Reports.learned(sent).forEach(l -> err.println("knock ssh-proxy: " + l));
                if (sent.outcome() instanceof KnockOutcome.Confirmed c) {
                    err.println("knock ssh-proxy: " + Reports.confirmed(sent, c));
                } else if (sent.outcome() instanceof KnockOutcome.Unconfirmed u) {
                    err.println("knock ssh-proxy: " + Reports.unconfirmed(sent, u, plan.options().replyTimeout(),
                            plan.client().certificateGrants()));
                }
            }
            if (!outcome.connected()) {
                err.println("knock ssh-proxy: " + Reports.timedOut(outcome.confirmation(), outcome.knock().target(), port));
                return KnockExitCodes.TIMED_OUT;
            }
            if (args.verbose) {
                err.println("knock ssh-proxy: " + Reports.opened(outcome.confirmation(), outcome.knock().target(), port));
                err.println("knock ssh-proxy: relayed " + outcome.relayed().bytesToPeer() + " bytes out, "
                        + outcome.relayed().bytesFromPeer() + " bytes in");
            }
            return ExitCodes.OK;
        } catch (KnockException e) {
            throw Failures.of(e);
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "the connection to port " + port + " failed: " + e.getMessage(), e);
        }
    }
}
