package dev.certknock.ca.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.certknock.ca.inventory.ExpiringRow;
import dev.certknock.ca.inventory.InventoryRow;
import dev.certknock.ca.issue.Lifetime;
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
        footer = {"  knock-ca list --dir ca", "  knock-ca list --dir ca --kind client --json",
                "  knock-ca list --dir ca --expiring 7d",
                "%nFor cron:%n",
                "--expiring prints nothing when nothing expires (--json: []), and exits 0 whether or not any are listed, "
                        + "so cron, which mails any output, mails only when something expires. A script tests the output, "
                        + "not the exit code, which is non-zero only on an error:",
                "  [ \"$(knock-ca list --expiring 7d --json)\" != \"[]\" ]",
                "  Example crontab line: 0 8 * * * knock-ca list --dir /srv/ca --expiring 7d"})
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

    @Option(names = "--expiring", paramLabel = "DURATION", description = "Only valid (not revoked, not expired) certificates "
            + "whose notAfter is within DURATION (30m, 8h, 7d, 2w, P7D), soonest first, with the time left. --json then prints "
            + "[{name, serial, kind, notAfter, secondsLeft}]. Prints nothing when none (see For cron).")
    String expiring;

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() throws JsonProcessingException {
        if (kind != null && !List.of("client", "server", "ca").contains(kind)) {
            throw new dev.certknock.cli.UserException(dev.certknock.cli.ExitCodes.USAGE, "--kind " + kind + ": use client, server or ca");
        }
        if (expiring != null) {
            return expiring();
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

    private int expiring() throws JsonProcessingException {
        java.time.Duration within = CaCli.call(() -> ListCommand.within(expiring));
        List<ExpiringRow> rows = CaCli.call(() -> new InventoryService(CaCli.CLOCK).expiring(dir.dir, kind, within));
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(rows.isEmpty() ? "[]" : CaStore.json().writeValueAsString(rows)); // "[]" exactly, for scripts
            return 0;
        }
        if (rows.isEmpty()) {
            return 0; // cron mails output: none when nothing expires
        }
        String format = "%-32s  %-6s  %-20s  %-10s  %s%n";
        out.printf(format, "SERIAL", "KIND", "NOT AFTER", "LEFT", "NAME");
        for (ExpiringRow r : rows) {
            out.printf(format, r.serial(), r.kind(), r.notAfter(), Lifetime.format(java.time.Duration.ofSeconds(r.secondsLeft())),
                    r.name());
        }
        out.printf("%d certificate%s expire%s within %s: renew with knock-ca renew NAME (see knock-ca renew --help)%n",
                rows.size(), rows.size() == 1 ? "" : "s", rows.size() == 1 ? "s" : "", expiring.strip());
        return 0;
    }

    /** The --expiring window: a duration as --valid-for takes it, without its 5-minute floor. */
    static java.time.Duration within(String text) {
        return Lifetime.parseAny(text, "--expiring");
    }
}
