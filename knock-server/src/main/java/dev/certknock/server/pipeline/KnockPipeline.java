package dev.certknock.server.pipeline;

import dev.certknock.server.event.KnockEventListener;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * The ordered stages a datagram goes through. {@link PipelineFactory} is the one place that lists the
 * order. Thread-safe: stages are shared, contexts are not.
 */
public final class KnockPipeline {

    private final List<Stage> stages;
    private final KnockEventListener listener;
    private final Clock clock;

    public KnockPipeline(List<Stage> stages, KnockEventListener listener, Clock clock) {
        this.stages = List.copyOf(stages);
        this.listener = Objects.requireNonNull(listener);
        this.clock = Objects.requireNonNull(clock);
    }

    public List<Stage> stages() {
        return stages;
    }

    public Verdict process(ReceivedDatagram datagram) {
        KnockContext ctx = new KnockContext(datagram, clock.instant());
        listener.received(datagram.source(), datagram.length());
        for (Stage stage : stages) {
            Outcome outcome;
            try {
                outcome = stage.apply(ctx);
            } catch (RuntimeException | StackOverflowError e) {
                // A bug, not an attack: count it and drop the datagram; the worker lives on.
                listener.internalError(stage.name(), e);
                outcome = Outcome.drop(DropReason.INTERNAL_ERROR, "stage failed unexpectedly");
            }
            if (outcome instanceof Outcome.Drop drop) {
                ctx.dropped(drop.reason());
                Verdict.Dropped v = new Verdict.Dropped(datagram.source(), drop.reason(), drop.detail(), stage.name());
                listener.dropped(v, ctx);
                return v;
            }
        }
        if (ctx.decision == null) {
            throw new IllegalStateException("pipeline ended without a decision: the last stage must decide");
        }
        ctx.accepted();
        Verdict.Accepted v = new Verdict.Accepted(datagram.source(), ctx.decision);
        listener.accepted(v, ctx);
        return v;
    }
}
