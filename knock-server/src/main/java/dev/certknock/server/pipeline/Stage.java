package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

/**
 * One check of the knock pipeline. A stage reads what earlier stages put in the context, adds what it
 * learns, and continues or drops. It must not throw for any input; the pipeline still catches and
 * counts {@link DropReason#INTERNAL_ERROR} as a last resort.
 */
public interface Stage {

    Outcome apply(KnockContext context);

    /** Short name for logs and docs. */
    default String name() {
        return getClass().getSimpleName();
    }
}
