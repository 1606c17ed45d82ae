package dev.certknock.server.crl;

/** Internal: thrown by the checks in {@link CrlParser} and {@link CrlStore}, turned into {@link CrlUpdate.Rejected}. */
final class CrlRejection extends Exception {

    private static final long serialVersionUID = 1L;

    private final RejectionReason reason;

    CrlRejection(RejectionReason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    RejectionReason reason() {
        return reason;
    }

    CrlUpdate.Rejected toResult() {
        return new CrlUpdate.Rejected(reason, getMessage());
    }
}
