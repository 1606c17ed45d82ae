package dev.certknock.client.cli.target;

import dev.certknock.client.cli.KnockCommand;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code knock target}: manage the named targets. */
@Command(name = "target", mixinStandardHelpOptions = true,
        description = "Manages named targets, so that 'knock NAME' suffices.",
        subcommands = {TargetAddCommand.class, TargetListCommand.class, TargetRemoveCommand.class})
public final class TargetCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ParentCommand
    KnockCommand parent;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** The targets store that {@code --targets}, $CERTKNOCK_TARGETS or the default names. */
    TargetStore store(Path option) {
        return new TargetStore(TargetStore.locate(option, parent.context().env(), parent.context().home()));
    }
}
