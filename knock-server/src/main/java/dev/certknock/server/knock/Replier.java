package dev.certknock.server.knock;

/**
 * Sends the reply that a knock's processing asked for ({@link KnockView#reply()}): called by the pipeline
 * only for a knock whose signature verified, after the verdict. Must not block for long or throw for
 * anything a sender did.
 */
@FunctionalInterface
public interface Replier {

    /** Sends nothing: the offline pipeline, and a server with {@code knock.replies: false}. */
    Replier NONE = ctx -> { };

    void reply(KnockView ctx);
}
