package dev.certknock.ca.cli;

import dev.certknock.ca.issue.RenewRequest;
import dev.certknock.ca.issue.RenewRequest.KeySource;
import dev.certknock.ca.issue.RenewResult;
import dev.certknock.ca.issue.RenewService;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "renew", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Renew a client or server certificate: a new certificate with the same subject, grants and other "
                + "extensions, read from the CA's own copy of the current one (nothing is retyped). By default for a new key "
                + "of the same type, written with the certificate to a new PKCS#12 bundle; --reuse-key re-certifies the "
                + "old public key, --csr a request's key (the subject still comes from the old certificate). Both write "
                + "the certificate and the CA chain as PEM. NAME picks the newest valid certificate with that name; "
                + "--serial picks one, and may renew an expired one. A revoked certificate is never renewed."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca renew --dir ca alice --valid-for 8h --out alice-2.p12 --revoke-old",
                "  knock-ca renew --dir ca --serial 3f9c0e7d1a2b4c5d6e7f8091a2b3c4d5 --csr bob.csr --out bob-2.pem",
                "  knock-ca renew --dir ca gw1.example.test --reuse-key --out gw1-2.pem",
                "Then, with --revoke-old, publish a CRL: knock-ca crl --dir ca"})
public final class RenewCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CaCli.CaDir dir;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Parameters(index = "0", paramLabel = "NAME", description = "The client name or server DNS name (the certificate's CN).")
        String name;

        @Option(names = "--serial", paramLabel = "SERIAL", description = "The serial number in hex, as 'list' shows it.")
        String serial;
    }

    @Mixin
    LifetimeOptions lifetime;

    @Option(names = "--reuse-key", description = "Certify the old certificate's public key again instead of a new key.")
    boolean reuseKey;

    @Option(names = "--csr", paramLabel = "FILE", description = "Certify the key in this PKCS#10 request (client certificates).")
    Path csr;

    @Option(names = "--revoke-old", description = "Revoke the old certificate with reason superseded (publish it with 'knock-ca crl').")
    boolean revokeOld;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "The PKCS#12 bundle to write; with --reuse-key or --csr, the PEM certificate and chain (must not exist).")
    Path out;

    @Option(names = "--cert-out", paramLabel = "FILE", description = "The certificate alone, PEM (default: FILE with .pem for .p12; new keys only).")
    Path certOut;

    @ArgGroup(exclusive = false, heading = "%nCA key password (asked on the terminal otherwise):%n")
    PasswordOptions.Ca caPassword = new PasswordOptions.Ca();

    @ArgGroup(exclusive = false, heading = "%nBundle password, new keys only (asked twice on the terminal otherwise):%n")
    PasswordOptions.Out outPassword = new PasswordOptions.Out();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        if (reuseKey && csr != null) {
            throw new UserException(ExitCodes.USAGE, "give --reuse-key or --csr, not both");
        }
        if ((reuseKey || csr != null) && certOut != null) {
            throw new UserException(ExitCodes.USAGE, "--cert-out is for a new key: with --reuse-key or --csr, --out is the PEM certificate");
        }
        KeySource key = reuseKey ? KeySource.REUSE : csr != null ? KeySource.CSR : KeySource.NEW;
        java.time.Duration validFor = lifetime.resolve(null);
        char[] ca = caPassword.read(false);
        char[] bundle = key == KeySource.NEW ? outPassword.read("bundle") : null;
        RenewResult r = CaCli.call(() -> new RenewService(CaCli.CLOCK, CaCli.random()).renew(new RenewRequest(dir.dir, ca,
                target.name, target.serial, validFor, key, csr, out, certOut, bundle, revokeOld)));
        var w = spec.commandLine().getOut();
        w.printf("Renewed %s certificate %s (%s)%n", r.old().kind(), r.old().serial(), r.old().subject());
        IssueClientCommand.print(w, r.issued());
        if (r.old().isRevoked()) {
            w.printf("Revoked the old certificate %s, reason %s, at %s%n", r.old().serial(), r.old().reason(), r.old().revokedAt());
            w.printf("Publish a new CRL so that servers learn it: knock-ca crl --dir %s%n", dir.dir);
        } else {
            w.printf("The old certificate %s stays valid until %s (--revoke-old revokes it)%n", r.old().serial(), r.old().notAfter());
        }
        return 0;
    }
}
