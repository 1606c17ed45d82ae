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
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "csr", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"On the client's machine: make a key (written encrypted, 0600) and a certificate request for the CA. "
                + "The key never leaves the machine; the CA answers with 'issue-client --csr', and 'bundle' then makes "
                + "the PKCS#12 bundle the knock client reads.",
            "With --pkcs11-module the key is a P-256 key made on the token, which never leaves it (sensitive, never "
                + "extractable); the request is signed on the token, and 'bundle' then stores the CA's certificate "
                + "there."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca csr bob --key bob.key --out bob.csr",
                "  knock-ca csr bob --key-type ed25519 --key bob.key --out bob.csr --key-password-file bob.pass",
                "  knock-ca csr alice --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so \\",
                "        --token-label 'alice-token' --key-label alice --out alice.csr"})
public final class CsrCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The client's name for the request's CN.")
    String name;

    @Option(names = "--key", paramLabel = "FILE", description = "The encrypted private key to write (must not exist); not with --pkcs11-module.")
    Path key;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The PEM request to write (must not exist).")
    Path out;

    @Option(names = "--key-type", defaultValue = "p256", paramLabel = "TYPE", description = "p256 or ed25519 (default: ${DEFAULT-VALUE}).")
    String keyType;

    @ArgGroup(exclusive = false, heading = "%nPassword for the new key (asked twice on the terminal otherwise):%n")
    PasswordOptions.NewKey outPassword = new PasswordOptions.NewKey();

    @ArgGroup(exclusive = false, heading = "%nOr a key made on a PKCS#11 token (PIN asked on the terminal otherwise):%n")
    TokenOptions token = new TokenOptions();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        if (token.used()) {
            return onToken();
        }
        if (key == null) {
            throw new UserException(ExitCodes.USAGE, "give --key FILE for the new key, or --pkcs11-module LIB to make it "
                    + "on a token");
        }
        char[] pw = outPassword.read("client key");
        String type = CaCli.call(() -> new CsrService(CaCli.random()).makeRequest(name, keyType, key, out, pw));
        var o = spec.commandLine().getOut();
        o.printf("Wrote a %s key to %s (encrypted) and the request to %s%n", type, key, out);
        o.printf("Send %s to the CA; keep %s.%n", out, key);
        return 0;
    }

    private Integer onToken() {
        if (key != null || outPassword.file != null || outPassword.env != null || !"p256".equals(keyType)) {
            throw new UserException(ExitCodes.USAGE, "a key on a token is a P-256 key that no file holds: leave out "
                    + "--key, --key-type and --key-password-*");
        }
        var keys = token.keys();
        char[] pin = token.pin();
        try {
            CaCli.call(() -> {
                keys.makeRequest(name, pin, out);
                return null;
            });
        } finally {
            java.util.Arrays.fill(pin, '\0');
        }
        var o = spec.commandLine().getOut();
        o.printf("Made a P-256 key '%s' on token '%s' (it never leaves the token) and wrote the request to %s%n",
                keys.keyLabel(), keys.tokenLabel(), out);
        o.printf("Send %s to the CA; then store its certificate on the token with knock-ca bundle --pkcs11-module ...%n",
                out);
        return 0;
    }
}
