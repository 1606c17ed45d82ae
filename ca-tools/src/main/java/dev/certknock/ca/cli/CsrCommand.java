package dev.certknock.ca.cli;

import dev.certknock.ca.issue.CsrService;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "csr", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"On the client's machine: make a key (written encrypted, 0600) and a certificate request for the CA. "
                + "The key never leaves the machine; the CA answers with 'issue-client --csr', and 'bundle' then makes "
                + "the PKCS#12 bundle the knock client reads."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca csr bob --key bob.key --out bob.csr",
                "  knock-ca csr bob --key-type ed25519 --key bob.key --out bob.csr --key-password-file bob.pass"})
public final class CsrCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The client's name for the request's CN.")
    String name;

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "The encrypted private key to write (must not exist).")
    Path key;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The PEM request to write (must not exist).")
    Path out;

    @Option(names = "--key-type", defaultValue = "p256", paramLabel = "TYPE", description = "p256 or ed25519 (default: ${DEFAULT-VALUE}).")
    String keyType;

    @ArgGroup(exclusive = false, heading = "%nPassword for the new key (asked twice on the terminal otherwise):%n")
    PasswordOptions.NewKey outPassword = new PasswordOptions.NewKey();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        char[] pw = outPassword.read("client key");
        String type = CaCli.call(() -> new CsrService(CaCli.random()).makeRequest(name, keyType, key, out, pw));
        var o = spec.commandLine().getOut();
        o.printf("Wrote a %s key to %s (encrypted) and the request to %s%n", type, key, out);
        o.printf("Send %s to the CA; keep %s.%n", out, key);
        return 0;
    }
}
