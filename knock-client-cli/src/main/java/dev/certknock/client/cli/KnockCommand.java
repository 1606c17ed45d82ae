package dev.certknock.client.cli;

import dev.certknock.cli.CommandRunner;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.GenerateManPageCommand;
import dev.certknock.cli.ManifestVersionProvider;
import dev.certknock.cli.UserException;
import dev.certknock.client.cli.target.TargetCommand;
import dev.certknock.client.knock.AddressOrigin;
import dev.certknock.client.knock.KnockException;
import dev.certknock.client.knock.KnockOutcome;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.knock.OpenConfirmation;
import dev.certknock.client.knock.PreparedKnock;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.Map;
import java.util.Set;
import java.util.Stack;
import picocli.AutoComplete;
import picocli.CommandLine.IParameterPreprocessor;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code knock}: the certknock client. Sends one knock; the subcommands manage targets and proxy ssh. */
@Command(name = "knock", mixinStandardHelpOptions = true, versionProvider = ManifestVersionProvider.class,
        description = {"Sends one signed, encrypted knock packet that asks a certknock server to open ports for you.",
            "",
            "TARGET is a name from the targets file (knock target add), or a host name or address; then give "
                    + "--bundle and --server-cert. GRANT is tcp/PORT, udp/PORT or a range such as udp/8000-8100; "
                    + "without one, the target's default grants are asked for."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock gw1.example.test tcp/22 --bundle alice.p12 --server-cert gw1.pem",
            "  knock target add gw1 --host gw1.example.test --grant tcp/22 \\",
            "        --bundle alice.p12 --server-cert gw1.pem",
            "  knock gw1 --wait",
            "  knock legacy-gw tcp/22 --protocol 1",
            "  ssh -o ProxyCommand='knock ssh-proxy gw1 %%p' alice@gw1.example.test",
            KnockExitCodes.HELP,
            "Documentation: docs/CLIENT.md in the certknock repository."})
public final class KnockCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TARGET", description = "Target name, host name or address.")
    String target;

    @Parameters(index = "1..*", paramLabel = "GRANT", description = "Ports to open, e.g. tcp/22 udp/8000-8100.")
    List<String> grants = new ArrayList<>();

    @Mixin
    KnockArgs args;

    @Option(names = "--wait", arity = "0..1", fallbackValue = "30", paramLabel = "SECONDS",
            preprocessor = WaitSeconds.class,
            description = "After knocking, wait up to SECONDS (default 30) until the first TCP grant's port accepts "
                    + "connections, knocking again up to 3 times; exit 10 if it does not.")
    Integer waitSeconds;

    @Option(names = "--save-packet", paramLabel = "FILE",
            description = "Write the exact datagram sent (with --dry-run: that would be sent) to FILE.")
    Path savePacket;

    @Option(names = "--dry-run", description = "Check and seal the knock but send nothing.")
    boolean dryRun;

    @Option(names = "--require-reply",
            description = "Exit 12 unless the server confirms the knock (by default an unconfirmed knock exits 0 "
                    + "with a warning).")
    boolean requireReply;

    private final CliContext context;

    public KnockCommand() {
        this(CliContext.system());
    }

    public KnockCommand(CliContext context) {
        this.context = context;
    }

    /**
     * The subcommands, in the order the usage lists them. Registered by {@link CommandRunner} only when the command
     * line may name one (DESIGN.md D35): a knock does not build their models.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(TargetCommand.class, SshProxyCommand.class,
            AutoComplete.GenerateCompletion.class, GenerateManPageCommand.class);

    /** The {@code ssh-proxy} subcommand's name: a command line that names it parses with a lean model too (D42). */
    static final String SSH_PROXY = "ssh-proxy";

    /** The names that need the full model even when the lean one holds {@code ssh-proxy} (D42). */
    static final Set<String> SUBCOMMAND_NAMES_BUT_SSH_PROXY = Set.of("target", "generate-completion",
            "generate-man-page");

    /**
     * Every name and alias of {@link #SUBCOMMANDS}, as their {@code @Command} annotations give them: written out so
     * that a knock reads no annotation (DESIGN.md D42; {@code KnockLeanModelTest} compares the two).
     */
    static final Set<String> SUBCOMMAND_NAMES = with(SUBCOMMAND_NAMES_BUT_SSH_PROXY, SSH_PROXY);

    private static Set<String> with(Set<String> names, String name) {
        Set<String> all = new HashSet<>(names);
        all.add(name);
        return Set.copyOf(all);
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(run(CliContext.system(), out, err, args));
    }

    /** Runs the command against the given streams: the entry point for tests. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return run(CliContext.system(), out, err, args);
    }

    /**
     * Runs the command with a given process context (environment, raw streams, console). A knock, and an {@code
     * ssh-proxy} (the ProxyCommand that every {@code ssh} runs), parse with the lean model (DESIGN.md D35, D42);
     * the other subcommands, help and usage errors with the full annotated one.
     */
    public static int run(CliContext context, PrintWriter out, PrintWriter err, String... args) {
        if (Arrays.asList(args).contains(SSH_PROXY)) {
            return CommandRunner.run(() -> new KnockCommand(context), KnockLeanModel::withSshProxy, SUBCOMMANDS,
                    SUBCOMMAND_NAMES_BUT_SSH_PROXY, out, err, args);
        }
        return CommandRunner.run(() -> new KnockCommand(context), KnockLeanModel::of, SUBCOMMANDS, SUBCOMMAND_NAMES,
                out, err, args);
    }

    public CliContext context() {
        return context;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (target == null) {
            spec.commandLine().usage(out);
            return ExitCodes.OK;
        }
        if (dryRun && waitSeconds != null) {
            throw new UserException(ExitCodes.USAGE, "--dry-run sends nothing, so there is nothing to --wait for");
        }
        if (waitSeconds != null && waitSeconds < 1) {
            throw new UserException(ExitCodes.USAGE, "--wait needs at least 1 second");
        }
        if (requireReply && (dryRun || args.noReply || Integer.valueOf(1).equals(args.protocol))) {
            throw new UserException(ExitCodes.USAGE, "--require-reply waits for the server's reply, and "
                    + (dryRun ? "--dry-run sends nothing" : args.noReply ? "--no-reply waits for none"
                    : "a v1 server never replies (--protocol 1)"));
        }
        KnockSetup.Plan plan = KnockSetup.plan(args, context, target, grants, null,
                m -> err.println("knock: warning: " + m));
        String host = plan.client().target().host();
        int waitPort = waitSeconds == null ? 0 : firstTcpPort(plan.grants());
        try {
            PreparedKnock prepared = plan.client().prepare(plan.grants(), plan.options());
            if (savePacket != null) {
                save(prepared.datagram());
            }
            if (dryRun) {
                out.println(Reports.dryRun(prepared, host, plan.client().target().knockPort()));
                if (savePacket != null) {
                    out.println("saved the datagram to " + savePacket);
                }
                if (args.verbose) {
                    Reports.details(out, plan, prepared.timestampMillis(), prepared.serverKeyId());
                }
                return ExitCodes.OK;
            }
            KnockReceipt receipt = plan.client().send(prepared);
            out.println(Reports.sent(receipt, host));
            Reports.learned(receipt).forEach(out::println);
            if (args.verbose) {
                Reports.details(out, plan, receipt.timestampMillis(), prepared.serverKeyId());
                out.println("  address     " + (prepared.addressOrigin() == AddressOrigin.NONE ? "none declared"
                        : "declared first: " + Reports.origin(prepared.addressOrigin())));
            }
            if (receipt.outcome() instanceof KnockOutcome.Confirmed c) {
                out.println(Reports.confirmed(receipt, c));
                if (args.verbose) {
                    out.println("  clock       the server's clock is " + Reports.seconds(c.clockOffset().abs())
                            + (c.clockOffset().isNegative() ? " behind" : " ahead of") + " this host's");
                }
                Reports.clockWarning(c).ifPresent(w -> err.println("knock: " + w));
            } else if (receipt.outcome() instanceof KnockOutcome.Unconfirmed u) {
                out.flush();
                err.println("knock: " + Reports.unconfirmed(receipt, u, plan.options().replyTimeout(),
                        plan.client().certificateGrants()));
                if (requireReply) {
                    err.println("knock: --require-reply: the server did not confirm the knock");
                    return KnockExitCodes.UNCONFIRMED;
                }
            }
            if (waitSeconds == null) {
                return ExitCodes.OK;
            }
            out.flush();
            err.println("knock: waiting up to " + waitSeconds + " s for " + receipt.target().getAddress().getHostAddress()
                    + " tcp/" + waitPort + " to accept connections...");
            err.flush();
            OpenConfirmation c = plan.client().awaitOpen(receipt, waitPort, Duration.ofSeconds(waitSeconds),
                    Reports.progress(err));
            if (c.opened()) {
                out.println(Reports.opened(c, receipt.target(), waitPort));
                return ExitCodes.OK;
            }
            err.println("knock: " + Reports.timedOut(c, receipt.target(), waitPort));
            return KnockExitCodes.TIMED_OUT;
        } catch (KnockException e) {
            throw Failures.of(e);
        }
    }

    /**
     * Lets {@code --wait} stand without its optional value before a grant: {@code knock gw1 --wait tcp/22}
     * waits the default 30 s rather than failing to read "tcp/22" as seconds.
     */
    static final class WaitSeconds implements IParameterPreprocessor {
        @Override
        public boolean preprocess(Stack<String> args, CommandSpec commandSpec, ArgSpec argSpec, Map<String, Object> info) {
            if (!" ".equals(info.get("separator"))) {
                return false; // --wait=N: picocli reads N
            }
            if (!args.isEmpty() && args.peek().matches("[0-9]+")) {
                return false; // --wait N
            }
            argSpec.setValue(Integer.valueOf(DEFAULT_WAIT_SECONDS));
            return true;
        }
    }

    static final int DEFAULT_WAIT_SECONDS = 30;

    static int firstTcpPort(List<PortGrant> grants) {
        for (PortGrant g : grants) {
            if (g.protocol() == Protocol.TCP) {
                return g.firstPort();
            }
        }
        throw new UserException(ExitCodes.USAGE, "--wait confirms a TCP port, and no TCP grant is requested");
    }

    private void save(byte[] datagram) {
        try {
            Path parent = savePacket.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(savePacket, datagram);
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot write " + savePacket + ": " + e.getMessage(), e);
        }
    }
}
