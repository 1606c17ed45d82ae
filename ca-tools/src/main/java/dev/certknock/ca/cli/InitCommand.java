package dev.certknock.ca.cli;

import dev.certknock.ca.init.CaInitService;
import dev.certknock.ca.init.InitRequest;
import dev.certknock.ca.init.InitResult;
import dev.certknock.ca.issue.GrantOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Create a CA in a new directory: an encrypted key, a self-signed root certificate "
                + "(or, with --parent, an intermediate signed by a root, path length 0, so the root can stay offline), "
                + "an empty database and the CRL settings. --grant (with --max-open, --server, --source) bounds what the CA may "
                + "grant: knock-ca and every server refuse client certificates below it that reach outside."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca init --dir ca --name 'Example certknock CA' --crl-url http://ca.example.test/certknock.crl",
                "  knock-ca init --dir root --name 'Example Root' --crl-url http://ca.example.test/root.crl --days 7300",
                "  knock-ca init --dir issuing --parent root --name 'Example Issuing CA' \\",
                "      --crl-url http://ca.example.test/issuing.crl --ca-password-file issuing.pass --parent-password-file root.pass",
                "  knock-ca init --dir db-ca --parent root --name 'Database Team CA' --crl-url http://ca.example.test/db.crl \\",
                "      --grant tcp/5432 --max-open 600 --server '*.db.example.test' --source 10.20.0.0/16"})
public final class InitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CaCli.CaDir dir;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The CA's common name.")
    String name;

    @Option(names = "--crl-url", required = true, paramLabel = "URL",
            description = "Where servers fetch this CA's CRL; written into every certificate it issues.")
    String crlUrl;

    @Option(names = "--crl-days", defaultValue = "7", paramLabel = "DAYS", description = "CRL nextUpdate after thisUpdate (default: ${DEFAULT-VALUE}).")
    int crlDays;

    @Option(names = "--publish-dir", paramLabel = "DIR", description = "Where 'crl' writes CRLs by default (default: DIR/publish).")
    Path publishDir;

    @Option(names = "--key-type", defaultValue = "p256", paramLabel = "TYPE", description = "p256 or ed25519 (default: ${DEFAULT-VALUE}).")
    String keyType;

    @Option(names = "--days", paramLabel = "DAYS", description = "Validity of the CA certificate (default: 3650 for a root, 1825 for an intermediate).")
    Integer days;

    @Option(names = "--parent", paramLabel = "DIR", description = "Make an intermediate CA signed by the CA in DIR (a root).")
    Path parent;

    @Option(names = "--grant", paramLabel = "PROTO/PORTS", description = {"Bound the CA: a port grant it may issue, "
            + "repeatable (tcp/5432, udp/8000-8100). With it the CA certificate carries the grants extension as a bound: "
            + "every client certificate below must lie inside it (docs/GRANT-EXTENSION.md). Without: no bound."})
    List<String> grants = new ArrayList<>();

    @Option(names = "--max-open", paramLabel = "SECONDS", description = "Bound: the longest opening any certificate below may get, 1-86400 (servers cap it).")
    Integer maxOpen;

    @Option(names = "--server", paramLabel = "NAME", description = "Bound: a server name, or *.NAME for names of one more leading label, repeatable; certificates below must list servers it covers.")
    List<String> servers = new ArrayList<>();

    @Option(names = "--source", paramLabel = "CIDR", description = "Bound: a client address prefix, repeatable; certificates below must list sources inside it.")
    List<String> sources = new ArrayList<>();

    @ArgGroup(exclusive = false, heading = "%nPassword of the new CA key (asked twice on the terminal otherwise):%n")
    PasswordOptions.Ca password = new PasswordOptions.Ca();

    @ArgGroup(exclusive = false, heading = "%nPassword of the parent CA key (with --parent):%n")
    PasswordOptions.Parent parentPassword = new PasswordOptions.Parent();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        char[] pw = password.read(true);
        char[] parentPw = parent != null ? parentPassword.read() : null;
        int d = days != null ? days : parent != null ? 1825 : 3650;
        InitResult r = CaCli.call(() -> new CaInitService(CaCli.CLOCK, CaCli.random()).init(
                new InitRequest(dir.dir, name, keyType, d, crlUrl, crlDays, publishDir, pw, parent, parentPw,
                        new GrantOptions(grants, maxOpen, servers, sources))));
        var out = spec.commandLine().getOut();
        out.printf("Created %s CA in %s%n", r.intermediate() ? "intermediate" : "root", r.dir());
        out.printf("  subject:     %s%n", r.subject());
        if (r.intermediate()) {
            out.printf("  issuer:      %s%n", r.issuer());
        }
        if (r.bound() != null) {
            out.printf("  bound:       %s%n", r.bound());
        }
        out.printf("  key:         %s (encrypted in %s)%n", r.keyType(), r.dir().resolve("private/ca.key"));
        out.printf("  serial:      %s%n", r.serial());
        out.printf("  not after:   %s%n", r.notAfter());
        out.printf("  SHA-256:     %s%n", r.fingerprint());
        out.printf("  certificate: %s (chain: %s)%n", r.dir().resolve("ca.pem"), r.dir().resolve("chain.pem"));
        return 0;
    }
}
