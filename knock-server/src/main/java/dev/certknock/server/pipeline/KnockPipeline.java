package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import dev.certknock.server.knock.Verdict;
import dev.certknock.server.knock.ReceivedDatagram;
import dev.certknock.server.knock.Replier;

import dev.certknock.server.event.KnockEventListener;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

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

    /**
     * Runs every stage on this thread; a stage whose decision waits ({@link Outcome.Pending}) is waited for here.
     */
    public Verdict process(ReceivedDatagram datagram) {
        return process(datagram, null);
    }

    /**
     * Where the rest of a knock runs once a stage's {@link Outcome.Pending} decision came, so that the worker that
     * started it need not wait (docs/DESIGN.md D39).
     */
    public interface Resumer {
        /**
         * Takes the rest of a knock, to run {@code rest} once {@code decision} has completed, or declines (false:
         * the caller waits for the decision itself). Implementations bound how many knocks they hold.
         */
        boolean resumeLater(CompletableFuture<Outcome> decision, Runnable rest);
    }

    /**
     * Runs the stages on this thread until one answers {@link Outcome.Pending}: then, if {@code later} takes it, the
     * rest of the knock runs where {@code later} runs it, and this returns null at once; otherwise (no resumer, it
     * declined, or the decision already came) this thread waits for the decision and goes on.
     *
     * @return the verdict, or null when the knock was handed to {@code later}
     */
    public Verdict process(ReceivedDatagram datagram, Resumer later) {
        KnockContext ctx = new KnockContext(datagram, clock.instant());
        listener.received(datagram.source(), datagram.length());
        return run(ctx, 0, null, later);
    }

    private Verdict run(KnockContext ctx, int from, Outcome decided, Resumer later) {
        for (int i = from; i < stages.size(); i++) {
            Stage stage = stages.get(i);
            Outcome outcome;
            if (i == from && decided != null) {
                outcome = decided;
            } else {
                try {
                    outcome = stage.apply(ctx);
                } catch (RuntimeException | StackOverflowError e) {
                    // A bug, not an attack: count it and drop the datagram; the worker lives on.
                    outcome = internalError(stage, e);
                }
            }
            if (outcome instanceof Outcome.Pending pending) {
                CompletableFuture<Outcome> decision = pending.decision();
                int at = i;
                if (!decision.isDone() && later != null && later.resumeLater(decision, () -> {
                    run(ctx, at, settled(stage, decision), null);
                })) {
                    return null;
                }
                outcome = settled(stage, decision);
            }
            if (outcome instanceof Outcome.Drop drop) {
                ctx.dropped(drop.reason());
                Verdict.Dropped v = new Verdict.Dropped(ctx.datagram().source(), drop.reason(), drop.detail(),
                        stage.name());
                listener.dropped(v, ctx);
                reply(ctx);
                return v;
            }
        }
        if (ctx.decision == null) {
            throw new IllegalStateException("pipeline ended without a decision: the last stage must decide");
        }
        ctx.accepted();
        Verdict.Accepted v = new Verdict.Accepted(ctx.datagram().source(), ctx.decision);
        listener.accepted(v, ctx);
        reply(ctx);
        return v;
    }

    /**
     * The decision of a {@link Outcome.Pending} outcome, waiting for it if need be (its stage guarantees that it
     * completes); anything but {@link Outcome.Continue} or {@link Outcome.Drop} is an internal error: a drop.
     */
    private Outcome settled(Stage stage, CompletableFuture<Outcome> decision) {
        try {
            Outcome o = decision.join();
            if (o instanceof Outcome.Continue || o instanceof Outcome.Drop) {
                return o;
            }
            return internalError(stage, new IllegalStateException("a pending decision must settle to continue or drop"));
        } catch (RuntimeException e) {
            return internalError(stage, e);
        }
    }

    private Outcome internalError(Stage stage, Throwable e) {
        listener.internalError(stage.name(), e);
        return Outcome.drop(DropReason.INTERNAL_ERROR, "stage failed unexpectedly");
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
