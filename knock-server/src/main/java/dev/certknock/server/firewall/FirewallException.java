package dev.certknock.server.firewall;

/** The firewall could not apply a change. The message is for the operator. */
public class FirewallException extends Exception {

    private static final long serialVersionUID = 1L;

    public FirewallException(String message, Throwable cause) {
        super(message, cause);
    }
}
