package dev.certknock.server.dispatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded queue that is fair by source: one FIFO lane per source, lanes served round-robin, at most
 * {@code share} items per lane and {@code capacity} in all. When it is full, an item from a source with
 * fewer items queued than the longest lane pushes out the oldest item of the longest lane (as fq_codel
 * drops from its fattest flow); an item from the longest lane itself is refused. So one source, or
 * many, can fill the queue, but never keep another source out, and an item waits at most one turn of
 * the lanes ahead of it: with {@code n} sources queued, at most {@code n - 1} other items are served
 * before the head of its lane. Memory: at most {@code capacity} items and lanes. O(1) per offer and poll
 * (the longest lane is tracked by length, lengths are at most {@code share}). Thread-safe.
 *
 * @param <K> the source key
 * @param <T> the item
 */
final class FairQueue<K, T> {

    /** What became of an offered item. */
    sealed interface Admission<T> permits Admitted, AdmittedEvicting, Refused {
    }

    /** Queued. */
    record Admitted<T>() implements Admission<T> {
    }

    /** Queued, and {@code evicted} (another source's oldest item) was dropped to make room. */
    record AdmittedEvicting<T>(T evicted) implements Admission<T> {
    }

    /** Not queued: its lane holds its share, or the queue is full and its lane is the longest. */
    record Refused<T>() implements Admission<T> {
    }

    private final int capacity;
    private final int share;
    /** Lanes in round-robin order: the next to serve first. Every lane in it holds at least one item. */
    private final LinkedHashMap<K, ArrayDeque<T>> lanes = new LinkedHashMap<>();
    /** {@code byLength.get(n)}: the keys of the lanes holding n items, for n in 1..share. */
    private final List<LinkedHashSet<K>> byLength;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private int size;
    private int longest;

    FairQueue(int capacity, int share) {
        if (capacity < 1 || share < 1) {
            throw new IllegalArgumentException("capacity " + capacity + " and share " + share + " must be at least 1");
        }
        this.capacity = capacity;
        this.share = Math.min(share, capacity);
        this.byLength = new ArrayList<>(this.share + 1);
        for (int i = 0; i <= this.share; i++) {
            byLength.add(new LinkedHashSet<>());
        }
    }

    Admission<T> offer(K key, T item) {
        lock.lock();
        try {
            ArrayDeque<T> lane = lanes.get(key);
            int own = lane == null ? 0 : lane.size();
            if (own >= share) {
                return new Refused<>();
            }
            T evicted = null;
            if (size >= capacity) {
                if (longest <= own) {
                    return new Refused<>();
                }
                evicted = pollFrom(byLength.get(longest).iterator().next());
            }
            if (lane == null) {
                lane = new ArrayDeque<>();
                lanes.put(key, lane); // joins the round at its end
            }
            lane.addLast(item);
            size++;
            moved(key, own, own + 1);
            notEmpty.signal();
            return evicted == null ? new Admitted<>() : new AdmittedEvicting<>(evicted);
        } finally {
            lock.unlock();
        }
    }

    /** The next item in round-robin order, waiting up to {@code timeout}; null if none came. */
    T poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (size == 0) {
                if (nanos <= 0) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            Iterator<Map.Entry<K, ArrayDeque<T>>> first = lanes.entrySet().iterator();
            Map.Entry<K, ArrayDeque<T>> next = first.next();
            K key = next.getKey();
            ArrayDeque<T> lane = next.getValue();
            first.remove();
            T item = lane.pollFirst();
            size--;
            moved(key, lane.size() + 1, lane.size());
            if (!lane.isEmpty()) {
                lanes.put(key, lane); // to the end of the round
            }
            return item;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    /** Lanes holding items; for tests. */
    int lanes() {
        lock.lock();
        try {
            return lanes.size();
        } finally {
            lock.unlock();
        }
    }

    /** Removes the oldest item of {@code key}'s lane, keeping its place in the round. */
    private T pollFrom(K key) {
        ArrayDeque<T> lane = lanes.get(key);
        T item = lane.pollFirst();
        size--;
        moved(key, lane.size() + 1, lane.size());
        if (lane.isEmpty()) {
            lanes.remove(key);
        }
        return item;
    }

    private void moved(K key, int from, int to) {
        if (from > 0) {
            byLength.get(from).remove(key);
        }
        if (to > 0) {
            byLength.get(to).add(key);
        }
        if (to > longest) {
            longest = to;
        }
        while (longest > 0 && byLength.get(longest).isEmpty()) {
            longest--;
        }
    }
}
