package dev.certknock.client.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options that sign knocks with a key on a PKCS#11 token (smart card, YubiKey PIV, HSM) instead of a bundle's:
 * a picocli mixin of {@link KnockArgs}. The PIN comes from a file, an environment variable or the terminal, never
 * from the command line.
 */
public final class TokenArgs {

    @Option(names = "--pkcs11-module", paramLabel = "LIB",
            description = "Sign with a key on a PKCS#11 token through this module (e.g. "
                    + "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so) instead of a bundle's; the key never leaves the token.")
    Path module;

    @Option(names = "--token-label", paramLabel = "LABEL",
            description = "The token's label, as pkcs11-tool --list-slots shows it.")
    String tokenLabel;

    @Option(names = "--key-label", paramLabel = "LABEL",
            description = "The label of the key's certificate on the token (default: the token's only key).")
    String keyLabel;

    @Option(names = "--pin-file", paramLabel = "FILE", description = "Read the token PIN from the first line of FILE.")
    Path pinFile;

    @Option(names = "--pin-env", paramLabel = "NAME",
            description = "Read the token PIN from environment variable NAME (default: ask on the terminal).")
    String pinEnv;

    /** Whether any token option is given. */
    boolean used() {
        return module != null || tokenLabel != null || keyLabel != null || pinFile != null || pinEnv != null;
    }
}
