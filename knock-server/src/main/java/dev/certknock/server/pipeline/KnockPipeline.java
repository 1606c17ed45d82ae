package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.knock.Verdict;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Replier;

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
    private final Replier replier;

    public KnockPipeline(List<Stage> stages, KnockEventListener listener, Clock clock) {
        this(stages, listener, clock, Replier.NONE);
    }

    /** @param replier sends what the stages asked to tell the sender of a verified knock */
    public KnockPipeline(List<Stage> stages, KnockEventListener listener, Clock clock, Replier replier) {
        this.replier = Objects.requireNonNull(replier);
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
                reply(ctx);
                return v;
            }
        }
        if (ctx.decision == null) {
            throw new IllegalStateException("pipeline ended without a decision: the last stage must decide");
        }
        ctx.accepted();
        Verdict.Accepted v = new Verdict.Accepted(datagram.source(), ctx.decision);
        listener.accepted(v, ctx);
        reply(ctx);
        return v;
    }

    private void reply(KnockContext ctx) {
        if (ctx.reply == null || ctx.verified == null) {
            return; // nothing unauthenticated is ever answered
        }
        try {
            replier.reply(ctx);
        } catch (RuntimeException e) {
            listener.internalError("reply", e);
        }
    }
}
