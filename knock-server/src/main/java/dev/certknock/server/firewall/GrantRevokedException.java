package dev.certknock.server.firewall;

/**
 * The firewall refused a grant because its certificate was revoked after the knock passed the revocation check
 * (a CRL landed while the knock was in the pipeline). Not an operator problem: the knock is dropped as revoked.
 */
public final class GrantRevokedException extends FirewallException {

    private static final long serialVersionUID = 1L;

    public GrantRevokedException(String message) {
        super(message, null);
    }
}
