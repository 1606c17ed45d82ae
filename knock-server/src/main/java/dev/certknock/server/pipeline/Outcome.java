package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import java.util.concurrent.CompletableFuture;

/**
 * What a stage decided: go on to the next stage, or drop with a reason; or {@link Pending}: the decision waits for
 * an answer from elsewhere (the gateway group's replay store, docs/DESIGN.md D39).
 */
public sealed interface Outcome {

    Outcome CONTINUE = new Continue();

    record Continue() implements Outcome {
    }

    /** @param detail a constant text, never attacker bytes */
    record Drop(DropReason reason, String detail) implements Outcome {
    }

    /**
     * The stage's decision once {@code decision} completes: {@link Continue} or {@link Drop}, never {@link Pending}
     * again. The stage guarantees that it completes, and never exceptionally; the pipeline treats an exception as an
     * internal error (a drop). Until it completes, the knock neither goes on nor is dropped.
     */
    record Pending(CompletableFuture<Outcome> decision) implements Outcome {
    }

    static Outcome drop(DropReason reason, String detail) {
        return new Drop(reason, detail);
    }
}
