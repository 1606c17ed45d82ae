package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.client.knock.KnockException;

/** The one place that turns the library's exceptions into messages and exit codes. */
final class Failures {

    private Failures() {
    }

    static UserException of(KnockException e) {
        int code = switch (e.reason()) {
            case SERVER_CERTIFICATE_UNTRUSTED, SERVER_CERTIFICATE_NOT_VALID_NOW, SERVER_CERTIFICATE_NOT_FOR_KNOCKS,
                    SERVER_NAME_MISMATCH,
                    SERVER_KEY_UNSUPPORTED, INVALID_REQUEST, DATAGRAM_TOO_LARGE -> ExitCodes.BAD_INPUT;
            case CLIENT_CERTIFICATE_NOT_VALID_NOW, CLIENT_CERTIFICATE_NOT_FOR_KNOCKS, CLIENT_CERTIFICATE_WITHOUT_GRANTS,
                    SIGNING_FAILED -> ExitCodes.BAD_CREDENTIALS;
            case GRANT_NOT_PERMITTED, SERVER_NOT_PERMITTED, DURATION_NOT_PERMITTED, SOURCE_NOT_PERMITTED ->
                    KnockExitCodes.NOT_PERMITTED;
            case UNKNOWN_HOST, NETWORK, ADDRESS_NOT_ACCEPTED -> ExitCodes.FAILURE;
        };
        String hint = e.reason() == KnockException.Reason.SERVER_NAME_MISMATCH ? "; or, when it is that server under "
                + "another name (an address, say), say which name its certificate carries: --server-name NAME "
                + "(knock target add --server-name for a target)" : "";
        return new UserException(code, e.getMessage() + hint, e);
    }

    static UserException of(IdentityException e) {
        int code = switch (e.reason()) {
            case UNREADABLE, MALFORMED -> ExitCodes.BAD_INPUT;
            case WRONG_PASSWORD, NO_KEY, AMBIGUOUS_KEY, UNSUPPORTED_KEY -> ExitCodes.BAD_CREDENTIALS;
        };
        String hint = e.reason() == IdentityException.Reason.AMBIGUOUS_KEY ? " (--alias NAME)" : "";
        return new UserException(code, e.getMessage() + hint, e);
    }
}
