package dev.certknock.protocol.knock;

/** The outcome of {@link KnockOpener#tryOpen}: an opened, signature-checked knock, or a rejection. */
public sealed interface OpenResult {

    record Opened(VerifiedKnock knock) implements OpenResult {
    }

    record Rejected(RejectReason reason, String detail) implements OpenResult {
    }
}
