package dev.certknock.ca.cli;

import dev.certknock.ca.issue.CsrService;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bundle", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"On the client's machine: put the key made by 'csr' and the certificate and chain the CA returned "
                + "into a PKCS#12 bundle for the knock client. Refuses a certificate that is not for the key.",
            "With --pkcs11-module: store the certificate and chain on the token beside the key 'csr' made there."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca bundle --key bob.key --cert bob.pem --out bob.p12",
            "  knock-ca bundle --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so \\",
            "        --token-label 'alice-token' --key-label alice --cert alice.pem"})
public final class BundleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--key", paramLabel = "FILE", description = "The encrypted key written by 'csr'.")
    Path key;

    @Option(names = "--cert", required = true, paramLabel = "FILE", description = "The certificate followed by the CA chain, PEM.")
    Path cert;

    @Option(names = "--out", paramLabel = "FILE", description = "The PKCS#12 bundle to write (must not exist).")
    Path out;

    @ArgGroup(exclusive = false, heading = "%nPassword of the key (asked on the terminal otherwise):%n")
    PasswordOptions.Key keyPassword = new PasswordOptions.Key();

    @ArgGroup(exclusive = false, heading = "%nBundle password (asked twice on the terminal otherwise):%n")
    PasswordOptions.Out outPassword = new PasswordOptions.Out();

    @ArgGroup(exclusive = false, heading = "%nOr the key on a PKCS#11 token (PIN asked on the terminal otherwise):%n")
    TokenOptions token = new TokenOptions();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        if (token.used()) {
            return onToken();
        }
        if (key == null || out == null) {
            throw new UserException(ExitCodes.USAGE, "give --key FILE and --out FILE, or --pkcs11-module LIB for a key "
                    + "on a token");
        }
        char[] kp = keyPassword.read();
        char[] bp = outPassword.read("bundle");
        CaCli.call(() -> {
            new CsrService(CaCli.random()).bundle(key, kp, cert, out, bp);
            return null;
        });
        spec.commandLine().getOut().printf("Wrote %s%n", out);
        return 0;
    }

    private Integer onToken() {
        if (key != null || out != null || keyPassword.file != null || keyPassword.env != null
                || outPassword.file != null || outPassword.env != null) {
            throw new UserException(ExitCodes.USAGE, "the key is on the token and the certificate goes there: leave out "
                    + "--key, --out and the password options");
        }
        var keys = token.keys();
        char[] pin = token.pin();
        java.security.cert.X509Certificate leaf;
        try {
            leaf = CaCli.call(() -> keys.install(pin, cert));
        } finally {
            java.util.Arrays.fill(pin, '\0');
        }
        spec.commandLine().getOut().printf("Stored %s (valid until %s) with key '%s' on token '%s'%n",
                leaf.getSubjectX500Principal().getName(), leaf.getNotAfter().toInstant(), keys.keyLabel(),
                keys.tokenLabel());
        return 0;
    }
}
