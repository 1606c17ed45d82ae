package dev.certknock.ca.cli;

import dev.certknock.ca.issue.ClientRequest;
import dev.certknock.ca.issue.GrantOptions;
import dev.certknock.ca.issue.IssueResult;
import dev.certknock.ca.issue.IssueService;
import dev.certknock.ca.issue.NameInUse;
import dev.certknock.ca.pki.Names;
import dev.certknock.ca.store.IssuedEntry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "issue-client", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Issue a client certificate: EKU id-kp-certknockClient and the grants extension (ports, "
                + "longest opening, servers, source prefixes), valid for --valid-for (default 90d). Either makes the key here and writes a PKCS#12 bundle "
                + "(key, certificate, CA chain) as the knock client reads it, or (--csr) certifies the key in a request "
                + "and writes the certificate followed by the CA chain as PEM."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca issue-client --dir ca alice --grant tcp/22 --grant udp/8000-8100 --max-open 300 \\",
                "      --server gw1.example.test --source 203.0.113.0/24 --valid-for 90d --out alice.p12",
                "  knock-ca issue-client --dir ca carol --grant tcp/22 --valid-for 8h --out carol.p12",
                "  knock-ca issue-client --dir ca bob --grant tcp/22 --csr bob.csr --out bob.pem --ca-password-env CA_PASS"})
public final class IssueClientCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CaCli.CaDir dir;

    @Parameters(index = "0", paramLabel = "NAME", description = "The client's name (certificate CN), e.g. alice.")
    String name;

    @Option(names = "--grant", paramLabel = "PROTO/PORTS", description = "A port grant, repeatable: tcp/22, udp/8000-8100. At least one.")
    List<String> grants = new ArrayList<>();

    @Option(names = "--max-open", paramLabel = "SECONDS", description = "Longest opening a knock may ask for, 1-86400 (default: the server's limit).")
    Integer maxOpen;

    @Option(names = "--server", paramLabel = "DNS-NAME", description = "A server this certificate may knock on, repeatable (default: any).")
    List<String> servers = new ArrayList<>();

    @Option(names = "--source", paramLabel = "CIDR", description = "A client address prefix, repeatable, e.g. 203.0.113.0/24 (default: any).")
    List<String> sources = new ArrayList<>();

    @Option(names = "--critical-grants", description = "Mark the grants extension critical (generic verifiers such as openssl then refuse the certificate).")
    boolean criticalGrants;

    /** Default lifetime of a client certificate. */
    static final java.time.Duration DEFAULT_LIFETIME = java.time.Duration.ofDays(90);

    @Mixin
    LifetimeOptions lifetime; // default 90d

    @Option(names = "--key-type", defaultValue = "p256", paramLabel = "TYPE", description = "Key made here: p256 or ed25519 (default: ${DEFAULT-VALUE}).")
    String keyType;

    @Option(names = "--csr", paramLabel = "FILE", description = "Certify the key in this PKCS#10 request instead of making one (see 'knock-ca csr').")
    Path csr;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "The PKCS#12 bundle to write; with --csr, the PEM certificate and chain (must not exist).")
    Path out;

    @Option(names = "--cert-out", paramLabel = "FILE", description = "The certificate alone, PEM (default: FILE with .pem for .p12; not with --csr).")
    Path certOut;

    @Option(names = "--force", description = "Issue even when NAME already has a valid client certificate (otherwise refused; 'renew' replaces one).")
    boolean force;

    @ArgGroup(exclusive = false, heading = "%nCA key password (asked on the terminal otherwise):%n")
    PasswordOptions.Ca caPassword = new PasswordOptions.Ca();

    @ArgGroup(exclusive = false, heading = "%nBundle password, not with --csr (asked twice on the terminal otherwise):%n")
    PasswordOptions.Out outPassword = new PasswordOptions.Out();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        java.time.Duration lifetime = this.lifetime.resolve(DEFAULT_LIFETIME);
        if (!force) {
            CaCli.call(() -> {
                NameInUse.refuseValid(dir.dir, IssuedEntry.CLIENT, Names.commonName(name, "the client name"), name,
                        CaCli.CLOCK.instant(), "issue-client");
                return null;
            });
        }
        char[] ca = caPassword.read(false);
        char[] bundle = csr == null ? outPassword.read("bundle") : null;
        IssueResult r = CaCli.call(() -> new IssueService(CaCli.CLOCK, CaCli.random()).issueClient(new ClientRequest(
                dir.dir, ca, name, new GrantOptions(grants, maxOpen, servers, sources), criticalGrants, lifetime, keyType, csr,
                out, certOut, bundle)));
        print(spec.commandLine().getOut(), r);
        return 0;
    }

    static void print(PrintWriter out, IssueResult r) {
        out.printf("Issued %s certificate %s%n", r.kind(), r.serial());
        out.printf("  subject:   %s%n", r.subject());
        out.printf("  %-9s  %s%n", r.kind().equals("client") ? "grants:" : "server:", r.detail());
        out.printf("  valid:     %s to %s (%s from now)%n", r.notBefore(), r.notAfter(), dev.certknock.ca.issue.Lifetime.format(
                java.time.Duration.between(java.time.Instant.parse(r.notBefore()).plus(dev.certknock.ca.issue.SigningCa.BACKDATE),
                        java.time.Instant.parse(r.notAfter()))));
        out.printf("  SHA-256:   %s%n", r.fingerprint());
        for (Path f : r.files()) {
            out.printf("  wrote:     %s%n", f);
        }
    }
}
