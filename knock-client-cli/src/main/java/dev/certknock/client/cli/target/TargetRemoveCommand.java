package dev.certknock.client.cli.target;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code knock target remove}: forget a named target. */
@Command(name = "remove", mixinStandardHelpOptions = true, description = "Removes a target.")
public final class TargetRemoveCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ParentCommand
    TargetCommand parent;

    @Parameters(index = "0", paramLabel = "NAME", description = "The target to remove.")
    String name;

    @Option(names = "--targets", paramLabel = "FILE", description = "Targets file (default: $CERTKNOCK_TARGETS, "
            + "else ~/.config/certknock/targets.yaml).")
    Path targets;

    @Override
    public Integer call() {
        TargetStore store = parent.store(targets);
        if (!store.remove(name)) {
            throw new UserException(ExitCodes.BAD_INPUT, "no target named '" + name + "' in " + store.file());
        }
        spec.commandLine().getOut().println("removed target " + name + " from " + store.file());
        return ExitCodes.OK;
    }
}
