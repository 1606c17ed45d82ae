package dev.certknock.server.dispatch;

import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.pipeline.DropReason;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.ReceivedDatagram;
import dev.certknock.server.ratelimit.SourceKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A bounded queue, fair by source ({@link FairQueue}: a lane per IPv4 address or IPv6 /64, served
 * round-robin), feeding a fixed pool of workers that run the pipeline. {@link #offer} never blocks: a
 * datagram that finds no room is dropped and counted ({@link DropReason#QUEUE_FULL}), or, if its source
 * has fewer datagrams queued than the source with the most, takes the place of that source's oldest
 * (which is dropped and counted instead). So the capture keeps up whatever the load, and a flood from
 * one source or many cannot keep a clean source's knock out of the queue or make it wait behind more
 * than one datagram per queued source. No thread per packet.
 */
public final class KnockDispatcher implements AutoCloseable {

    /** The most datagrams one source may have queued. */
    static final int PER_SOURCE_SHARE = 64;

    private final FairQueue<SourceKey, ReceivedDatagram> queue;
    private final KnockPipeline pipeline;
    private final KnockCounters counters;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean running = true;

    public KnockDispatcher(KnockPipeline pipeline, KnockCounters counters, int capacity, int workerCount) {
        this.queue = new FairQueue<>(capacity, Math.min(capacity, PER_SOURCE_SHARE));
        this.pipeline = pipeline;
        this.counters = counters;
        for (int i = 0; i < workerCount; i++) {
            Thread t = new Thread(this::work, "knock-worker-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    /**
     * Queues a datagram; false (and counted) when there is no room for it. A datagram pushed out to make
     * room for it is counted too.
     */
    public boolean offer(ReceivedDatagram datagram) {
        FairQueue.Admission<ReceivedDatagram> a = queue.offer(SourceKey.of(datagram.source().getAddress()), datagram);
        if (a instanceof FairQueue.Refused) {
            counters.count(DropReason.QUEUE_FULL);
            return false;
        }
        if (a instanceof FairQueue.AdmittedEvicting) {
            counters.count(DropReason.QUEUE_FULL);
        }
        return true;
    }

    public int queued() {
        return queue.size();
    }

    private void work() {
        while (running) {
            try {
                ReceivedDatagram d = queue.poll(200, TimeUnit.MILLISECONDS);
                if (d != null) {
                    pipeline.process(d);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The pipeline already counts stage failures; anything else must not kill a worker.
            }
        }
    }

    @Override
    public void close() {
        running = false;
        workers.forEach(Thread::interrupt);
        for (Thread t : workers) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
