package dev.certknock.ca.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.certknock.ca.inventory.InventoryRow;
import dev.certknock.ca.inventory.InventoryService;
import dev.certknock.ca.store.CaStore;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The inventory of the CA: every certificate it issued with serial, kind, subject, grants or server "
                + "name, notAfter and status (valid, expired, revoked). "
                + "--json gives for a client certificate also grants ([{protocol, first, last}]), maxOpenSeconds, servers "
                + "and sources as inspect --json shows them (null for server and CA certificates)."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca list --dir ca", "  knock-ca list --dir ca --kind client --json"})
public final class ListCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CaCli.CaDir dir;

    @Option(names = "--kind", paramLabel = "KIND", description = "Only client, server or ca certificates.")
    String kind;

    @Option(names = "--json", description = "Print a JSON array instead of a table, with the grants of client "
            + "certificates as structured fields.")
    boolean json;

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() throws JsonProcessingException {
        if (kind != null && !List.of("client", "server", "ca").contains(kind)) {
            throw new dev.certknock.cli.UserException(dev.certknock.cli.ExitCodes.USAGE, "--kind " + kind + ": use client, server or ca");
        }
        List<InventoryRow> rows = CaCli.call(() -> new InventoryService(CaCli.CLOCK).list(dir.dir, kind));
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(CaStore.json().writeValueAsString(rows));
            return 0;
        }
        String format = "%-32s  %-6s  %-7s  %-20s  %-22s  %s%n";
        out.printf(format, "SERIAL", "KIND", "STATUS", "NOT AFTER", "SUBJECT", "DETAIL");
        for (InventoryRow r : rows) {
            out.printf(format, r.serial(), r.kind(), r.status(), r.notAfter().replaceAll("\\.\\d+Z$", "Z"), r.subject(),
                    r.detail() + (r.reason() != null ? "; revoked " + r.reason() : ""));
        }
        out.printf("%d certificate%s%n", rows.size(), rows.size() == 1 ? "" : "s");
        return 0;
    }
}
