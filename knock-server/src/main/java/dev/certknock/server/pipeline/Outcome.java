package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

/** What a stage decided: go on to the next stage, or drop with a reason. */
public sealed interface Outcome {

    Outcome CONTINUE = new Continue();

    record Continue() implements Outcome {
    }

    /** @param detail a constant text, never attacker bytes */
    record Drop(DropReason reason, String detail) implements Outcome {
    }

    static Outcome drop(DropReason reason, String detail) {
        return new Drop(reason, detail);
    }
}
