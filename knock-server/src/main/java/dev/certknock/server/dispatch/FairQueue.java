package dev.certknock.server.dispatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded queue that is fair by source: one FIFO lane per source, at most {@code share} items per lane
 * and {@code capacity} in all. When it is full, an item from a source with fewer items queued than the
 * longest lane pushes out the oldest item of the longest lane (as fq_codel drops from its fattest flow);
 * an item from the longest lane itself is refused. So one source, or many, can fill the queue, but never
 * keep another source out. Memory: at most {@code capacity} items and lanes. Thread-safe.
 *
 * <p>Lanes are served round-robin within <em>tiers</em> ({@link Tiering}): a lane joins the tier of its
 * source when it is created and each time it goes to the end of its round, and the lowest-numbered tier
 * that holds a lane is served first, except that a lower tier holding a lane is passed over at most
 * {@link #LOWER_TIER_TURN}{@code - 1} polls in a row (plus one for each other lower tier falling due at the
 * same time), so no tier starves. A tier its {@link Tiering#mayServe} holds back
 * is skipped, its items waiting (or pushed out when the queue is full), until it may be served again; a
 * poll that finds only held-back tiers waits, rechecking every {@link #HELD_BACK_RECHECK_NANOS}. With one
 * tier, an item waits at most one turn of the lanes ahead of it: with {@code n} sources queued, at most
 * {@code n - 1} other items are served before the head of its lane. With tiers, the same holds within a
 * tier, plus the turns of lower tiers (at most one in {@code LOWER_TIER_TURN} polls each). A tier may also
 * hold its lanes to a smaller share ({@link Tiering#share}). O(1) per offer and
 * poll for a fixed number of tiers (the longest lane is tracked by length, lengths are at most
 * {@code share}).
 *
 * @param <K> the source key
 * @param <T> the item
 */
final class FairQueue<K, T> {

    /** A lower tier holding lanes is passed over at most this many polls less one in a row. */
    static final int LOWER_TIER_TURN = 4;
    /** How often a poll that finds only held-back tiers looks again. */
    static final long HELD_BACK_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** Which tier a source's lane is served in, and whether a tier may be served now. */
    interface Tiering<K> {

        /** The number of tiers, at least 1. */
        int tiers();

        /**
         * The tier, {@code 0} to {@code tiers() - 1}, that the source's lane joins when it is created and
         * when it goes to the end of its round; 0 is served first. Called under the queue's lock.
         */
        int tierOf(K key);

        /** Whether the tier may be served now; false holds its items back. Called under the queue's lock. */
        boolean mayServe(int tier);

        /**
         * The most items a lane in the tier may hold, if fewer than the queue's share (a lane that joins
         * the tier holding more keeps them, but takes no more until it is below).
         */
        default int share(int tier) {
            return Integer.MAX_VALUE;
        }

        /** An item of the tier is being served (after {@link #mayServe} said it may). Under the lock. */
        default void served(int tier) {
        }

        /** One tier, always served: plain round-robin. */
        static <K> Tiering<K> single() {
            return new Tiering<>() {
                @Override
                public int tiers() {
                    return 1;
                }

                @Override
                public int tierOf(K key) {
                    return 0;
                }

                @Override
                public boolean mayServe(int tier) {
                    return true;
                }
            };
        }
    }

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

    /** A source's items and the tier whose round it is in. */
    private static final class Lane<T> {
        final ArrayDeque<T> items = new ArrayDeque<>();
        int tier;

        Lane(int tier) {
            this.tier = tier;
        }
    }

    private final int capacity;
    private final int share;
    private final Tiering<K> tiering;
    /** Every lane that holds an item, by key. */
    private final Map<K, Lane<T>> lanes = new HashMap<>();
    /** Per tier, its lanes in round-robin order: the next to serve first. */
    private final List<LinkedHashMap<K, Lane<T>>> rounds;
    /** Per tier, the polls since it was last served while it held lanes. */
    private final int[] passedOver;
    /** {@code byLength.get(n)}: the keys of the lanes holding n items, for n in 1..share. */
    private final List<LinkedHashSet<K>> byLength;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private int size;
    private int longest;

    /** One tier: plain round-robin by source. */
    FairQueue(int capacity, int share) {
        this(capacity, share, Tiering.single());
    }

    FairQueue(int capacity, int share, Tiering<K> tiering) {
        if (capacity < 1 || share < 1) {
            throw new IllegalArgumentException("capacity " + capacity + " and share " + share + " must be at least 1");
        }
        if (tiering.tiers() < 1) {
            throw new IllegalArgumentException("at least one tier: " + tiering.tiers());
        }
        this.capacity = capacity;
        this.share = Math.min(share, capacity);
        this.tiering = tiering;
        this.rounds = new ArrayList<>(tiering.tiers());
        for (int i = 0; i < tiering.tiers(); i++) {
            rounds.add(new LinkedHashMap<>());
        }
        this.passedOver = new int[tiering.tiers()];
        this.byLength = new ArrayList<>(this.share + 1);
        for (int i = 0; i <= this.share; i++) {
            byLength.add(new LinkedHashSet<>());
        }
    }

    Admission<T> offer(K key, T item) {
        lock.lock();
        try {
            Lane<T> lane = lanes.get(key);
            int own = lane == null ? 0 : lane.items.size();
            if (own >= share || lane != null && own >= tiering.share(lane.tier)) {
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
                lane = new Lane<>(tierOf(key));
                lanes.put(key, lane);
                rounds.get(lane.tier).put(key, lane); // joins its tier's round at the end
            }
            lane.items.addLast(item);
            size++;
            moved(key, own, own + 1);
            notEmpty.signal();
            return evicted == null ? new Admitted<>() : new AdmittedEvicting<>(evicted);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next item in tier and round-robin order, waiting up to {@code timeout} for one that may be
     * served; null if none came.
     */
    T poll(long timeout, TimeUnit unit) throws InterruptedException {
        return poll(timeout, unit, () -> false);
    }

    /**
     * {@link #poll(long, TimeUnit)}, but returns null as soon as {@code otherWork} is true (checked under the lock, so
     * a {@link #wake()} after {@code otherWork} became true is never missed).
     */
    T poll(long timeout, TimeUnit unit, java.util.function.BooleanSupplier otherWork) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            int tier;
            while ((tier = nextTier()) < 0) {
                if (nanos <= 0 || otherWork.getAsBoolean()) {
                    return null;
                }
                long wait = size == 0 ? nanos : Math.min(nanos, HELD_BACK_RECHECK_NANOS);
                nanos -= wait - notEmpty.awaitNanos(wait);
            }
            tiering.served(tier);
            Iterator<Map.Entry<K, Lane<T>>> first = rounds.get(tier).entrySet().iterator();
            Map.Entry<K, Lane<T>> next = first.next();
            K key = next.getKey();
            Lane<T> lane = next.getValue();
            first.remove();
            T item = lane.items.pollFirst();
            size--;
            moved(key, lane.items.size() + 1, lane.items.size());
            if (lane.items.isEmpty()) {
                lanes.remove(key);
            } else {
                try {
                    lane.tier = tierOf(key);
                } finally {
                    rounds.get(lane.tier).put(key, lane); // to the end of its (new) tier's round
                }
            }
            return item;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes one thread waiting in {@link #poll}, to look at its {@code otherWork} again. */
    void wake() {
        lock.lock();
        try {
            notEmpty.signal();
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

    /** Lanes holding items in the tier; for tests. */
    int lanes(int tier) {
        lock.lock();
        try {
            return rounds.get(tier).size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The tier to serve now, or -1 if no tier holding lanes may be served: the first that holds lanes and
     * may be served, or a lower one that has been passed over {@code LOWER_TIER_TURN - 1} times.
     */
    private int nextTier() {
        int tiers = rounds.size();
        int first = -1;
        for (int t = 0; t < tiers && first < 0; t++) {
            if (!rounds.get(t).isEmpty() && tiering.mayServe(t)) {
                first = t;
            }
        }
        if (first < 0) {
            return -1;
        }
        int chosen = first;
        for (int t = tiers - 1; t > first; t--) {
            if (!rounds.get(t).isEmpty() && passedOver[t] >= LOWER_TIER_TURN - 1 && tiering.mayServe(t)) {
                chosen = t;
                break;
            }
        }
        for (int t = first; t < tiers; t++) {
            if (t == chosen) {
                passedOver[t] = 0;
            } else if (!rounds.get(t).isEmpty()) {
                passedOver[t]++;
            }
        }
        return chosen;
    }

    private int tierOf(K key) {
        int tier = tiering.tierOf(key);
        if (tier < 0 || tier >= rounds.size()) {
            throw new IllegalStateException("tier " + tier + " out of 0.." + (rounds.size() - 1));
        }
        return tier;
    }

    /** Removes the oldest item of {@code key}'s lane, keeping its place in its round. */
    private T pollFrom(K key) {
        Lane<T> lane = lanes.get(key);
        T item = lane.items.pollFirst();
        size--;
        moved(key, lane.items.size() + 1, lane.items.size());
        if (lane.items.isEmpty()) {
            lanes.remove(key);
            rounds.get(lane.tier).remove(key);
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
