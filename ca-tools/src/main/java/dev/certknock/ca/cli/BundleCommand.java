package dev.certknock.ca.cli;

import dev.certknock.ca.issue.CsrService;
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
                + "into a PKCS#12 bundle for the knock client. Refuses a certificate that is not for the key."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca bundle --key bob.key --cert bob.pem --out bob.p12"})
public final class BundleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "The encrypted key written by 'csr'.")
    Path key;

    @Option(names = "--cert", required = true, paramLabel = "FILE", description = "The certificate followed by the CA chain, PEM.")
    Path cert;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The PKCS#12 bundle to write (must not exist).")
    Path out;

    @ArgGroup(exclusive = false, heading = "%nPassword of the key (asked on the terminal otherwise):%n")
    PasswordOptions.Key keyPassword = new PasswordOptions.Key();

    @ArgGroup(exclusive = false, heading = "%nBundle password (asked twice on the terminal otherwise):%n")
    PasswordOptions.Out outPassword = new PasswordOptions.Out();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        char[] kp = keyPassword.read();
        char[] bp = outPassword.read("bundle");
        CaCli.call(() -> {
            new CsrService(CaCli.random()).bundle(key, kp, cert, out, bp);
            return null;
        });
        spec.commandLine().getOut().printf("Wrote %s%n", out);
        return 0;
    }
}
