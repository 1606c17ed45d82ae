package dev.certknock.protocol.knock;

/**
 * A knock whose signature verified with its leaf certificate's key, over a transcript bound to this
 * server key. Whether that certificate is trusted, valid, unrevoked and allowed what it asks for is the
 * server's to decide. Only {@link UnverifiedKnock#verify()} makes one, so holding a VerifiedKnock
 * proves the check ran (not a record for that reason: a record's constructor would be public).
 */
public final class VerifiedKnock {

    private final KnockContent content;
    private final ServerPublicKey serverKey;
    private final KnockVersion version;
    private final ReplyKey replyKey;

    VerifiedKnock(KnockVersion version, KnockContent content, ServerPublicKey serverKey, ReplyKey replyKey) {
        this.version = version;
        this.content = content;
        this.serverKey = serverKey;
        this.replyKey = replyKey;
    }

    /** V2 knocks sign the address they come from, and may be answered ({@link ReplySealer}). */
    public KnockVersion version() {
        return version;
    }

    /** Null for a v1 knock. */
    ReplyKey replyKey() {
        return replyKey;
    }

    public KnockContent content() {
        return content;
    }

    public ServerPublicKey serverKey() {
        return serverKey;
    }

    @Override
    public String toString() {
        return "VerifiedKnock[" + content.certificate().getSubjectX500Principal() + ", " + content.grants() + "]";
    }
}
