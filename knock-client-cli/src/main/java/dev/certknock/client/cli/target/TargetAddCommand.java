package dev.certknock.client.cli.target;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.protocol.grant.PortGrant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code knock target add}: add a named target, or replace one with --force. */
@Command(name = "add", mixinStandardHelpOptions = true,
        description = "Adds a target (--force replaces one of the same name). File paths are stored absolute.",
        footerHeading = "%nExample:%n",
        footer = {"  knock target add gw1 --host gw1.example.test --grant tcp/22 \\",
            "        --server-cert gw1.pem --bundle alice.p12"})
public final class TargetAddCommand implements Callable<Integer> {

    /** Names that the subcommands of knock take: a target of that name could not be knocked on. */
    private static final Set<String> RESERVED = Set.of("target", "ssh-proxy", "generate-completion",
            "generate-man-page", "help");

    @Spec
    CommandSpec spec;

    @ParentCommand
    TargetCommand parent;

    @Parameters(index = "0", paramLabel = "NAME", description = "The target's name, e.g. gw1.")
    String name;

    @Option(names = "--host", required = true, paramLabel = "HOST", description = "Host name or address to knock on.")
    String host;

    @Option(names = "--server-cert", required = true, paramLabel = "FILE", description = "The server's certificate.")
    Path serverCert;

    @Option(names = "--bundle", required = true, paramLabel = "FILE", description = "Your PKCS#12 bundle.")
    Path bundle;

    @Option(names = "--port", paramLabel = "PORT", description = "The knock port (default 62201).")
    Integer port;

    @Option(names = "--alias", paramLabel = "NAME", description = "Key entry in the bundle, when it holds several.")
    String alias;

    @Option(names = "--ca-cert", paramLabel = "FILE", description = "CA certificate, when the bundle carries none.")
    Path caCert;

    @Option(names = "--grant", paramLabel = "GRANT", description = "Default grant (repeatable), e.g. tcp/22.")
    List<String> grants = new ArrayList<>();

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Default duration to ask for.")
    Integer duration;

    @Option(names = "--password-file", paramLabel = "FILE", description = "A file whose first line is the bundle "
            + "password (its path is stored, not the password): knock and ssh-proxy read it, no prompt.")
    Path passwordFile;

    @Option(names = "--server-name", paramLabel = "NAME", description = "The name the server certificate carries, "
            + "when HOST is not one of its names (an address, say).")
    String serverName;

    @Option(names = "--force", description = "Replace a target of the same name.")
    boolean force;

    @Option(names = "--targets", paramLabel = "FILE", description = "Targets file (default: $CERTKNOCK_TARGETS, "
            + "else $XDG_CONFIG_HOME/certknock/targets.yaml, else ~/.config/certknock/targets.yaml).")
    Path targets;

    @Override
    public Integer call() {
        if (RESERVED.contains(name)) {
            throw new UserException(ExitCodes.BAD_INPUT, "'" + name + "' is a knock subcommand: pick another target name");
        }
        if (port != null && (port < 1 || port > 65535)) {
            throw new UserException(ExitCodes.USAGE, "--port " + port + " is outside 1-65535");
        }
        if (duration != null && (duration < 1 || duration > 86_400)) {
            throw new UserException(ExitCodes.USAGE, "--duration " + duration + " is outside 1-86400 seconds");
        }
        List<String> normalized = new ArrayList<>();
        for (String g : grants) {
            try {
                normalized.add(PortGrant.parse(g).toString());
            } catch (IllegalArgumentException e) {
                throw new UserException(ExitCodes.USAGE, e.getMessage(), e);
            }
        }
        TargetEntry entry = new TargetEntry(host, port, existing(serverCert, "server certificate"),
                existing(bundle, "bundle"), alias, caCert == null ? null : existing(caCert, "CA certificate"),
                normalized, duration, passwordFile == null ? null : existing(passwordFile, "password file"),
                serverName);
        TargetStore.requireName(name);
        TargetStore.Problem problem = TargetStore.problem(name, entry);
        if (problem != null) {
            throw new UserException(ExitCodes.USAGE, "target '" + name + "' " + problem.text());
        }
        TargetStore store = parent.store(targets);
        boolean replaced = store.find(name).isPresent();
        if (replaced && !force) {
            throw new UserException(ExitCodes.BAD_INPUT, "target " + name + " exists already in " + store.file()
                    + ": add --force to replace it, or pick another name (knock target list shows it)");
        }
        store.put(name, entry);
        spec.commandLine().getOut().println((replaced ? "replaced" : "added") + " target " + name + " (" + host
                + ") in " + store.file());
        return ExitCodes.OK;
    }

    private static String existing(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new UserException(ExitCodes.BAD_INPUT, what + " " + file + " does not exist");
        }
        return file.toAbsolutePath().normalize().toString();
    }
}
