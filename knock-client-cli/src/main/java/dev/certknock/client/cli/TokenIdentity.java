package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.client.token.Pkcs11Token;
import java.io.Console;
import java.util.Arrays;

/** The identity of a key on a PKCS#11 token, from the {@link TokenArgs} of the command line. */
final class TokenIdentity {

    private TokenIdentity() {
    }

    static ClientIdentity load(TokenArgs token, CliContext context) {
        if (token.module == null || token.tokenLabel == null) {
            throw new UserException(ExitCodes.USAGE, "a key on a PKCS#11 token needs --pkcs11-module LIB and "
                    + "--token-label LABEL (pkcs11-tool --module LIB --list-slots shows the labels)");
        }
        char[] pin = pin(token, context);
        try {
            return Pkcs11Token.open(token.module, token.tokenLabel, pin).identity(token.keyLabel);
        } catch (IdentityException e) {
            if (e.reason() == IdentityException.Reason.AMBIGUOUS_KEY) {
                throw new UserException(ExitCodes.BAD_CREDENTIALS, e.getMessage(), e); // not --alias: --key-label
            }
            throw Failures.of(e);
        } finally {
            Arrays.fill(pin, '\0');
        }
    }

    private static char[] pin(TokenArgs token, CliContext context) {
        if (token.pinFile != null && token.pinEnv != null) {
            throw new UserException(ExitCodes.USAGE, "give --pin-file or --pin-env, not both");
        }
        if (token.pinFile != null) {
            return Passwords.fromFile(token.pinFile);
        }
        if (token.pinEnv != null) {
            String value = context.env().apply(token.pinEnv);
            if (value == null) {
                throw new UserException(ExitCodes.USAGE, "environment variable " + token.pinEnv
                        + " (--pin-env) is not set");
            }
            return value.toCharArray();
        }
        Console console = context.console().get();
        if (console == null) {
            throw new UserException(ExitCodes.USAGE, "no terminal to ask for the PIN of token '" + token.tokenLabel
                    + "': use --pin-file FILE or --pin-env NAME");
        }
        char[] pin = console.readPassword("PIN for token %s: ", token.tokenLabel);
        if (pin == null) {
            throw new UserException(ExitCodes.BAD_CREDENTIALS, "no PIN given (end of input)");
        }
        return pin;
    }
}
