package dev.certknock.client.cli.target;

import dev.certknock.cli.ExitCodes;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code knock target list}: the named targets. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the targets, one a line.")
public final class TargetListCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ParentCommand
    TargetCommand parent;

    @Option(names = "--targets", paramLabel = "FILE", description = "Targets file (default: $CERTKNOCK_TARGETS, "
            + "else ~/.config/certknock/targets.yaml).")
    Path targets;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        TargetStore store = parent.store(targets);
        Map<String, TargetEntry> all = store.load();
        if (all.isEmpty()) {
            out.println("no targets in " + store.file() + " (add one: knock target add NAME --host HOST ...)");
            return ExitCodes.OK;
        }
        for (Map.Entry<String, TargetEntry> e : all.entrySet()) {
            TargetEntry t = e.getValue();
            out.println(e.getKey() + "  " + t.host() + " port " + (t.port() == null ? 62201 : t.port())
                    + (t.grants().isEmpty() ? "" : "  grants " + String.join(" ", t.grants()))
                    + (t.duration() == null ? "" : "  " + t.duration() + " s")
                    + "  bundle " + t.bundle() + "  server certificate " + t.serverCert()
                    + (t.serverName() == null ? "" : " (for " + t.serverName() + ")")
                    + (t.passwordFile() == null ? "" : "  password file " + t.passwordFile()));
        }
        return ExitCodes.OK;
    }
}
