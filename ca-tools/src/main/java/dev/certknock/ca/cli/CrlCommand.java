package dev.certknock.ca.cli;

import dev.certknock.ca.crl.CrlResult;
import dev.certknock.ca.crl.CrlService;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "crl", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sign a CRL of all revoked certificates (CRL number one above the last, thisUpdate now, nextUpdate "
                + "after the CA's --crl-days) and write it as DER (named after the --crl-url's last path segment) and "
                + "PEM (.pem added) into the publish directory, each replaced atomically, ready for any static web server. "
                + "A revoked certificate that has expired is left out once it has been on one CRL after its expiry "
                + "(RFC 5280 section 3.3). "
                + "Run it after every revocation and before nextUpdate (e.g. daily from cron)."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca crl --dir ca",
                "  knock-ca crl --dir ca --out /var/www/ca.example.test --ca-password-file /etc/knock-ca/ca.pass"})
public final class CrlCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CaCli.CaDir dir;

    @Option(names = "--out", paramLabel = "DIR", description = "Publish directory (default: the one set by init, DIR/publish).")
    Path out;

    @ArgGroup(exclusive = false, heading = "%nCA key password (asked on the terminal otherwise):%n")
    PasswordOptions.Ca caPassword = new PasswordOptions.Ca();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        // A directory that is not a CA is refused before any password is asked.
        CaCli.call(() -> dev.certknock.ca.store.CaDirectory.open(dir.dir));
        char[] pw = caPassword.read(false);
        CrlResult r = CaCli.call(() -> new CrlService(CaCli.CLOCK).publish(dir.dir, pw, out));
        var o = spec.commandLine().getOut();
        o.printf("Published CRL number %d with %d revoked certificate%s%n", r.number(), r.revokedCount(), r.revokedCount() == 1 ? "" : "s");
        if (r.expiredDropped() > 0) {
            o.printf("  left out:    %d revoked certificate%s that expired and were listed once after expiry%n",
                    r.expiredDropped(), r.expiredDropped() == 1 ? "" : "s");
        }
        o.printf("  this update: %s%n", r.thisUpdate());
        o.printf("  next update: %s%n", r.nextUpdate());
        o.printf("  wrote:       %s%n", r.der());
        o.printf("  wrote:       %s%n", r.pem());
        return 0;
    }
}
