package dev.certknock.server.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A timing wheel of keys bucketed by expiry: slot {@code s} holds keys expiring in
 * {@code [s * granularity, (s + 1) * granularity)}. Its times are milliseconds of a monotonic clock
 * (the guard's), never the wall clock: a wall clock stepped forward would hand over every slot at once. Adding is O(1); {@link #advance} hands over the keys
 * of every slot that has ended, so each key is visited once (amortised O(1) per add) and no sweep scans
 * live entries. Not thread-safe: the guard calls it under its lock.
 *
 * <p>The wheel stores keys only; the guard's map holds the authoritative expiry, and the visitor
 * decides (a key may have been re-committed with a later expiry, or have been clamped into the wheel's
 * range; such keys are simply added again).
 */
final class ExpiryWheel {

    private final long granularityMillis;
    private final List<List<ReplayKey>> buckets;
    /** Every slot below this one has been handed over. */
    private long sweptUpTo;

    /**
     * @param granularityMillis width of a slot
     * @param slots number of slots; keys expiring beyond {@code slots} slots ahead are put in the last
     *     slot and handed over early
     */
    ExpiryWheel(long granularityMillis, int slots, long nowMillis) {
        if (granularityMillis < 1 || slots < 2) {
            throw new IllegalArgumentException("granularity " + granularityMillis + " ms, " + slots + " slots");
        }
        this.granularityMillis = granularityMillis;
        this.buckets = new ArrayList<>(slots);
        for (int i = 0; i < slots; i++) {
            buckets.add(null);
        }
        this.sweptUpTo = Math.floorDiv(nowMillis, granularityMillis);
    }

    void add(ReplayKey key, long expiryMillis) {
        long slot = Math.floorDiv(expiryMillis, granularityMillis);
        // A slot already handed over (a key re-added by the visitor for a time now past) is handed over
        // again only after a full turn: use the next one instead. One beyond the wheel's reach goes to the farthest slot.
        slot = Math.min(Math.max(slot, sweptUpTo), sweptUpTo + buckets.size() - 1);
        int index = index(slot);
        List<ReplayKey> bucket = buckets.get(index);
        if (bucket == null) {
            bucket = new ArrayList<>(4);
            buckets.set(index, bucket);
        }
        bucket.add(key);
    }

    /**
     * Hands every key of every slot that ended at or before {@code nowMillis} to {@code visitor} and
     * forgets them. The visitor may call {@link #add}.
     */
    void advance(long nowMillis, Consumer<ReplayKey> visitor) {
        long current = Math.floorDiv(nowMillis, granularityMillis);
        if (current <= sweptUpTo) {
            return;
        }
        long steps = Math.min(current - sweptUpTo, buckets.size());
        List<List<ReplayKey>> ended = new ArrayList<>();
        for (long s = sweptUpTo; s < sweptUpTo + steps; s++) {
            int index = index(s);
            List<ReplayKey> bucket = buckets.get(index);
            if (bucket != null) {
                ended.add(bucket);
                buckets.set(index, null);
            }
        }
        sweptUpTo = current;
        for (List<ReplayKey> bucket : ended) {
            bucket.forEach(visitor);
        }
    }

    /**
     * Removes the keys of the slot that contains {@code nowMillis} (or, if that was handed over
     * already, the next slot to be handed over) for which {@code expired} is true. Costs one slot, not the wheel.
     */
    void purgeCurrent(long nowMillis, Predicate<ReplayKey> expired) {
        long slot = Math.max(Math.floorDiv(nowMillis, granularityMillis), sweptUpTo);
        List<ReplayKey> bucket = buckets.get(index(slot));
        if (bucket != null) {
            bucket.removeIf(expired);
        }
    }

    /** Keys held, counting duplicates; for tests. */
    int keyCount() {
        return buckets.stream().mapToInt(b -> b == null ? 0 : b.size()).sum();
    }

    private int index(long slot) {
        return (int) Math.floorMod(slot, (long) buckets.size());
    }
}
