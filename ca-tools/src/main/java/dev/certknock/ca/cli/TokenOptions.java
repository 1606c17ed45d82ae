package dev.certknock.ca.cli;

import dev.certknock.ca.issue.TokenKeys;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** A key on a PKCS#11 token instead of a key file (csr, bundle); the PIN never on the command line. */
final class TokenOptions {

    @Option(names = "--pkcs11-module", paramLabel = "LIB",
            description = "Keep the key on a PKCS#11 token (smart card, YubiKey PIV, HSM) through this module, e.g. "
                    + "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so, instead of in a file.")
    Path module;

    @Option(names = "--token-label", paramLabel = "LABEL", description = "The token's label (pkcs11-tool --list-slots).")
    String tokenLabel;

    @Option(names = "--key-label", paramLabel = "LABEL", description = "The label of the key and its certificate on the token.")
    String keyLabel;

    @Option(names = "--pin-file", paramLabel = "FILE", description = "Read the token PIN from the first line of FILE.")
    Path pinFile;

    @Option(names = "--pin-env", paramLabel = "NAME",
            description = "Read the token PIN from environment variable NAME (default: ask on the terminal).")
    String pinEnv;

    boolean used() {
        return module != null || tokenLabel != null || keyLabel != null || pinFile != null || pinEnv != null;
    }

    /** The token's key, every option it needs checked. */
    TokenKeys keys() {
        if (module == null || tokenLabel == null || keyLabel == null) {
            throw new UserException(ExitCodes.USAGE, "a key on a PKCS#11 token needs --pkcs11-module LIB, "
                    + "--token-label LABEL and --key-label LABEL");
        }
        return new TokenKeys(module, tokenLabel, keyLabel);
    }

    char[] pin() {
        return PasswordSource.standard().read("token PIN", pinFile, pinEnv, "--pin-file", "--pin-env", false);
    }
}
