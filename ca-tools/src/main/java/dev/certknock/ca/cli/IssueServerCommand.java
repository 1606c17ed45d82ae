package dev.certknock.ca.cli;

import dev.certknock.ca.issue.IssueResult;
import dev.certknock.ca.issue.IssueService;
import dev.certknock.ca.issue.NameInUse;
import dev.certknock.ca.pki.Names;
import dev.certknock.ca.store.IssuedEntry;
import dev.certknock.ca.issue.ServerRequest;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "issue-server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Issue a server certificate: the server's DNS name (CN and subjectAltName; --ip adds addresses), EKU id-kp-certknockServer, "
                + "and a fresh knock key (P-256 or X25519, keyUsage keyAgreement). Writes a PKCS#12 bundle (knock key, "
                + "certificate, CA chain) for the server and the certificate alone as PEM for the clients. Valid for --valid-for (default 365d)."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca issue-server --dir ca gw1.example.test --out gw1.p12",
                "  knock-ca issue-server --dir ca gw1.example.test --ip 192.0.2.10 --out gw1.p12",
                "  knock-ca issue-server --dir ca gw2.example.test --key-type x25519 --valid-for 365d --out gw2.p12 \\",
                "      --cert-out gw2-for-clients.pem --ca-password-file ca.pass --bundle-password-file gw2.pass"})
public final class IssueServerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CaCli.CaDir dir;

    @Parameters(index = "0", paramLabel = "DNS-NAME", description = "The server's DNS name, e.g. gw1.example.test.")
    String dnsName;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The PKCS#12 bundle to write (must not exist).")
    Path out;

    @Option(names = "--cert-out", paramLabel = "FILE", description = "The certificate alone, PEM (default: FILE with .pem for .p12).")
    Path certOut;

    @Option(names = "--ip", paramLabel = "ADDRESS", description = "An IP address clients also knock on this server by "
            + "(repeatable): written as an IP address subjectAltName, which knock checks as TLS does.")
    java.util.List<String> ipAddresses = new java.util.ArrayList<>();

    @Option(names = "--key-type", defaultValue = "p256", paramLabel = "TYPE", description = "Knock key: p256 or x25519 (default: ${DEFAULT-VALUE}).")
    String keyType;

    /** Default lifetime of a server certificate. */
    static final java.time.Duration DEFAULT_LIFETIME = java.time.Duration.ofDays(365);

    @Mixin
    LifetimeOptions lifetime; // default 365d

    @Option(names = "--force", description = "Issue even when DNS-NAME already has a valid server certificate (otherwise refused; 'renew' replaces one).")
    boolean force;

    @ArgGroup(exclusive = false, heading = "%nCA key password (asked on the terminal otherwise):%n")
    PasswordOptions.Ca caPassword = new PasswordOptions.Ca();

    @ArgGroup(exclusive = false, heading = "%nBundle password (asked twice on the terminal otherwise):%n")
    PasswordOptions.Out outPassword = new PasswordOptions.Out();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        java.time.Duration lifetime = this.lifetime.resolve(DEFAULT_LIFETIME);
        if (!force) {
            CaCli.call(() -> {
                String dns = Names.dnsName(dnsName);
                NameInUse.refuseValid(dir.dir, IssuedEntry.SERVER, Names.commonName(dns, "the server name"), dns,
                        CaCli.CLOCK.instant(), "issue-server");
                return null;
            });
        }
        char[] ca = caPassword.read(false);
        char[] bundle = outPassword.read("bundle");
        IssueResult r = CaCli.call(() -> new IssueService(CaCli.CLOCK, CaCli.random()).issueServer(
                new ServerRequest(dir.dir, ca, dnsName, lifetime, keyType, out, certOut, bundle,
                        ipAddresses)));
        IssueClientCommand.print(spec.commandLine().getOut(), r);
        return 0;
    }
}
