package dev.certknock.server.dispatch;

import dev.certknock.server.event.KnockCounters;
import dev.certknock.server.pipeline.DropReason;
import dev.certknock.server.pipeline.KnockPipeline;
import dev.certknock.server.pipeline.ReceivedDatagram;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded queue feeding a fixed pool of workers that run the pipeline. {@link #offer} never blocks:
 * when the queue is full the datagram is dropped and counted ({@link DropReason#QUEUE_FULL}), so the
 * capture keeps up whatever the load. No thread per packet.
 */
public final class KnockDispatcher implements AutoCloseable {

    private final BlockingQueue<ReceivedDatagram> queue;
    private final KnockPipeline pipeline;
    private final KnockCounters counters;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean running = true;

    public KnockDispatcher(KnockPipeline pipeline, KnockCounters counters, int capacity, int workerCount) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.pipeline = pipeline;
        this.counters = counters;
        for (int i = 0; i < workerCount; i++) {
            Thread t = new Thread(this::work, "knock-worker-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    /** Queues a datagram; false (and counted) when the queue is full. */
    public boolean offer(ReceivedDatagram datagram) {
        if (queue.offer(datagram)) {
            return true;
        }
        counters.count(DropReason.QUEUE_FULL);
        return false;
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
