package dev.certknock.protocol.knock;

import java.util.Objects;

/**
 * The one failure type of opening a knock: a reason from the fixed catalogue and a constant detail
 * text. The detail never contains bytes of the datagram, so it is safe to log. Carries no stack trace:
 * rejecting junk is the common path and must stay cheap.
 */
public final class KnockRejectedException extends Exception {

    private static final long serialVersionUID = 1L;

    private final RejectReason reason;

    public KnockRejectedException(RejectReason reason, String detail) {
        super(Objects.requireNonNull(reason) + ": " + detail, null, false, false);
        this.reason = reason;
    }

    public RejectReason reason() {
        return reason;
    }
}
