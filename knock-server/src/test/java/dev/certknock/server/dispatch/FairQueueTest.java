package dev.certknock.server.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FairQueueTest {

    private record Item(String source, int n) {
    }

    private static Item poll(FairQueue<String, Item> q) throws InterruptedException {
        return q.poll(0, TimeUnit.MILLISECONDS);
    }

    @Test
    void lanesAreServedRoundRobinAndEachInOrder() throws Exception {
        FairQueue<String, Item> q = new FairQueue<>(100, 10);
        for (int i = 0; i < 3; i++) {
            q.offer("a", new Item("a", i));
        }
        q.offer("b", new Item("b", 0));
        q.offer("c", new Item("c", 0));
        q.offer("b", new Item("b", 1));
        List<Item> served = new ArrayList<>();
        for (Item i = poll(q); i != null; i = poll(q)) {
            served.add(i);
        }
        assertThat(served).containsExactly(new Item("a", 0), new Item("b", 0), new Item("c", 0), new Item("a", 1),
                new Item("b", 1), new Item("a", 2));
        assertThat(q.size()).isZero();
        assertThat(q.lanes()).isZero();
    }

    @Test
    void aSourceGetsAtMostItsShare() {
        FairQueue<String, Item> q = new FairQueue<>(100, 4);
        for (int i = 0; i < 4; i++) {
            assertThat(q.offer("a", new Item("a", i))).isInstanceOf(FairQueue.Admitted.class);
        }
        assertThat(q.offer("a", new Item("a", 4))).isInstanceOf(FairQueue.Refused.class);
        assertThat(q.offer("b", new Item("b", 0))).isInstanceOf(FairQueue.Admitted.class);
        assertThat(q.size()).isEqualTo(5);
    }

    @Test
    void aCleanSourceIsServedWithinOneRoundOfABacklogOf200JunkSources() throws Exception {
        int capacity = 4096;
        FairQueue<String, Item> q = new FairQueue<>(capacity, 64);
        int refused = 0;
        int evicted = 0;
        // 200 junk sources, 64 datagrams each, offered in turn: far more than the queue holds.
        for (int round = 0; round < 64; round++) {
            for (int s = 0; s < 200; s++) {
                var a = q.offer("junk" + s, new Item("junk" + s, round));
                refused += a instanceof FairQueue.Refused ? 1 : 0;
                evicted += a instanceof FairQueue.AdmittedEvicting ? 1 : 0;
            }
        }
        assertThat(q.size()).as("bounded").isEqualTo(capacity);
        assertThat(refused + evicted).isEqualTo(200 * 64 - capacity);
        // The clean source's knock finds the queue full, and gets in all the same.
        assertThat(q.offer("alice", new Item("alice", 0))).isInstanceOf(FairQueue.AdmittedEvicting.class);
        assertThat(q.size()).isEqualTo(capacity);
        int dequeues = 0;
        Item next;
        do {
            next = poll(q);
            dequeues++;
        } while (!next.source().equals("alice"));
        assertThat(dequeues).as("served within one round of the 200 junk lanes").isLessThanOrEqualTo(201);
    }

    @Test
    void whenFullTheLongestLanePaysNotTheNewcomer() throws Exception {
        FairQueue<String, Item> q = new FairQueue<>(4, 4);
        for (int i = 0; i < 3; i++) {
            q.offer("flood", new Item("flood", i));
        }
        q.offer("b", new Item("b", 0));
        // Full: the flood's own next datagram is refused; b's evicts the flood's oldest.
        assertThat(q.offer("flood", new Item("flood", 3))).isInstanceOf(FairQueue.Refused.class);
        assertThat(q.offer("b", new Item("b", 1))).isEqualTo(new FairQueue.AdmittedEvicting<>(new Item("flood", 0)));
        // Now both hold two: nobody is longer than b, so b's third is refused.
        assertThat(q.offer("b", new Item("b", 2))).isInstanceOf(FairQueue.Refused.class);
        // A source with none evicts from one of the longest lanes.
        assertThat(q.offer("c", new Item("c", 0))).isInstanceOf(FairQueue.AdmittedEvicting.class);
        List<Item> served = new ArrayList<>();
        for (Item i = poll(q); i != null; i = poll(q)) {
            served.add(i);
        }
        assertThat(served).hasSize(4).contains(new Item("c", 0), new Item("b", 0));
        assertThat(q.lanes()).isZero();
    }

    @Test
    void pollWaitsForAnItemAndGivesUpAfterItsTimeout() throws Exception {
        FairQueue<String, Item> q = new FairQueue<>(4, 2);
        assertThat(q.poll(10, TimeUnit.MILLISECONDS)).isNull();
        Thread producer = new Thread(() -> q.offer("a", new Item("a", 0)));
        producer.start();
        assertThat(q.poll(10, TimeUnit.SECONDS)).isEqualTo(new Item("a", 0));
        producer.join();
    }

    /** Tiers set by hand: a source's tier (1 unless set) and which tiers are held back. */
    private static final class HandTiers implements FairQueue.Tiering<String> {
        final Map<String, Integer> tierOf = new HashMap<>();
        final Set<Integer> heldBack = ConcurrentHashMap.newKeySet();
        final Map<Integer, Integer> shares = new HashMap<>();
        final List<Integer> served = new ArrayList<>();
        int asked;

        @Override
        public int tiers() {
            return 3;
        }

        @Override
        public int tierOf(String key) {
            asked++;
            return tierOf.getOrDefault(key, 1);
        }

        @Override
        public boolean mayServe(int tier) {
            return !heldBack.contains(tier);
        }

        @Override
        public int share(int tier) {
            return shares.getOrDefault(tier, Integer.MAX_VALUE);
        }

        @Override
        public void served(int tier) {
            served.add(tier);
        }
    }

    @Test
    void aTierCanHoldItsLanesToASmallerShare() throws Exception {
        HandTiers tiers = new HandTiers();
        tiers.tierOf.put("bad", 2);
        tiers.shares.put(2, 2);
        FairQueue<String, Item> q = new FairQueue<>(100, 10, tiers);
        assertThat(q.offer("bad", new Item("bad", 0))).isInstanceOf(FairQueue.Admitted.class);
        assertThat(q.offer("bad", new Item("bad", 1))).isInstanceOf(FairQueue.Admitted.class);
        assertThat(q.offer("bad", new Item("bad", 2))).as("tier 2's share").isInstanceOf(FairQueue.Refused.class);
        for (int i = 0; i < 3; i++) {
            assertThat(q.offer("good", new Item("good", i))).isInstanceOf(FairQueue.Admitted.class);
        }
        // A lane that joins the tier with more than its share keeps them but takes no more.
        tiers.tierOf.put("good", 2);
        assertThat(poll(q)).isEqualTo(new Item("good", 0)); // tier 1 first; goes to tier 2 holding two
        assertThat(q.offer("good", new Item("good", 3))).isInstanceOf(FairQueue.Refused.class);
        assertThat(tiers.served).containsExactly(1);
    }

    @Test
    void eachServedItemIsReportedWithItsTier() throws Exception {
        HandTiers tiers = new HandTiers();
        tiers.tierOf.put("t0", 0);
        tiers.tierOf.put("t2", 2);
        FairQueue<String, Item> q = new FairQueue<>(100, 10, tiers);
        q.offer("t2", new Item("t2", 0));
        q.offer("t0", new Item("t0", 0));
        q.offer("t1", new Item("t1", 0));
        while (poll(q) != null) {
            // drain
        }
        assertThat(tiers.served).containsExactly(0, 1, 2);
    }

    @Test
    void aNewSourceIsServedBeforeABacklogOf200SourcesInTheLowestTier() throws Exception {
        HandTiers tiers = new HandTiers();
        FairQueue<String, Item> q = new FairQueue<>(4096, 64, tiers);
        for (int s = 0; s < 200; s++) {
            tiers.tierOf.put("junk" + s, 2);
        }
        for (int round = 0; round < 64; round++) {
            for (int s = 0; s < 200; s++) {
                q.offer("junk" + s, new Item("junk" + s, round));
            }
        }
        assertThat(q.size()).isEqualTo(4096);
        assertThat(q.lanes(2)).isEqualTo(200);
        // A first-time source (tier 1): admitted although the queue is full, and served next.
        assertThat(q.offer("alice", new Item("alice", 0))).isInstanceOf(FairQueue.AdmittedEvicting.class);
        assertThat(q.lanes(1)).isEqualTo(1);
        assertThat(poll(q)).isEqualTo(new Item("alice", 0));
    }

    @Test
    void lowerTiersAreServedFirstAndEachLowerTierGetsATurnInEveryFewPolls() throws Exception {
        HandTiers tiers = new HandTiers();
        tiers.tierOf.put("trusted", 0);
        tiers.tierOf.put("bad", 2);
        FairQueue<String, Item> q = new FairQueue<>(1000, 100, tiers);
        for (int i = 0; i < 40; i++) {
            q.offer("trusted", new Item("trusted", i));
            q.offer("good", new Item("good", i));
            q.offer("bad", new Item("bad", i));
        }
        List<String> served = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            served.add(poll(q).source());
        }
        assertThat(served.get(0)).isEqualTo("trusted");
        // Each lower tier waits at most LOWER_TIER_TURN - 1 polls, plus one for the other lower tier
        // falling due at the same time.
        int window = FairQueue.LOWER_TIER_TURN + 1;
        for (int i = 0; i + window <= served.size(); i++) {
            List<String> polls = served.subList(i, i + window);
            assertThat(polls).as("polls %d..%d: %s", i, i + window - 1, polls).contains("good", "bad");
        }
        assertThat(served.stream().filter("trusted"::equals).count()).as("tier 0 keeps at least half")
                .isGreaterThanOrEqualTo(served.size() / 2);
    }

    @Test
    void eachLaneInATierKeepsItsOrderAndTheLanesTakeTurns() throws Exception {
        HandTiers tiers = new HandTiers();
        FairQueue<String, Item> q = new FairQueue<>(100, 10, tiers);
        q.offer("a", new Item("a", 0));
        q.offer("a", new Item("a", 1));
        q.offer("b", new Item("b", 0));
        assertThat(poll(q)).isEqualTo(new Item("a", 0));
        assertThat(poll(q)).isEqualTo(new Item("b", 0));
        assertThat(poll(q)).isEqualTo(new Item("a", 1));
        assertThat(q.lanes()).isZero();
    }

    @Test
    void aHeldBackTierWaitsUntilItMayBeServed() throws Exception {
        HandTiers tiers = new HandTiers();
        tiers.tierOf.put("bad", 2);
        tiers.heldBack.add(2);
        FairQueue<String, Item> q = new FairQueue<>(100, 10, tiers);
        q.offer("bad", new Item("bad", 0));
        assertThat(poll(q)).as("held back").isNull();
        assertThat(q.poll(5, TimeUnit.MILLISECONDS)).as("held back, also after waiting").isNull();
        q.offer("good", new Item("good", 0));
        assertThat(poll(q)).as("another tier is served meanwhile").isEqualTo(new Item("good", 0));
        assertThat(poll(q)).isNull();
        tiers.heldBack.clear();
        assertThat(poll(q)).isEqualTo(new Item("bad", 0));
        assertThat(q.size()).isZero();
    }

    @Test
    void aPollWaitingOnAHeldBackTierTakesItOnceItMayBeServed() throws Exception {
        HandTiers tiers = new HandTiers();
        tiers.tierOf.put("bad", 2);
        tiers.heldBack.add(2);
        FairQueue<String, Item> q = new FairQueue<>(100, 10, tiers);
        q.offer("bad", new Item("bad", 0));
        Thread opener = new Thread(() -> {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            tiers.heldBack.clear();
        });
        opener.start();
        // The poll rechecks a held-back tier by itself: no offer wakes it. (Whether the tier opens before
        // or during the poll, the item comes.)
        assertThat(q.poll(10, TimeUnit.SECONDS)).isEqualTo(new Item("bad", 0));
        opener.join();
    }

    @Test
    void aTierThatCannotBeToldKeepsTheLaneInItsRound() throws Exception {
        HandTiers tiers = new HandTiers();
        FairQueue<String, Item> q = new FairQueue<>(100, 10, tiers);
        q.offer("a", new Item("a", 0));
        q.offer("a", new Item("a", 1));
        tiers.tierOf.put("a", 7);
        assertThatThrownBy(() -> poll(q)).isInstanceOf(IllegalStateException.class);
        tiers.tierOf.put("a", 1);
        assertThat(q.lanes(1)).isEqualTo(1);
        assertThat(poll(q)).isEqualTo(new Item("a", 1));
        assertThat(q.lanes()).isZero();
    }

    @Test
    void aLaneChangesTierWhenItGoesToTheEndOfItsRound() throws Exception {
        HandTiers tiers = new HandTiers();
        FairQueue<String, Item> q = new FairQueue<>(100, 10, tiers);
        for (int i = 0; i < 3; i++) {
            q.offer("a", new Item("a", i));
        }
        assertThat(q.lanes(1)).isEqualTo(1);
        int asked = tiers.asked;
        tiers.tierOf.put("a", 2); // its datagrams failed meanwhile
        assertThat(q.offer("a", new Item("a", 3))).isInstanceOf(FairQueue.Admitted.class);
        assertThat(tiers.asked).as("an offer to a queued lane asks nothing").isEqualTo(asked);
        assertThat(q.lanes(1)).as("it keeps its place until it is served").isEqualTo(1);
        assertThat(poll(q)).isEqualTo(new Item("a", 0));
        assertThat(q.lanes(1)).isZero();
        assertThat(q.lanes(2)).isEqualTo(1);
        tiers.tierOf.put("a", 0); // a knock from it verified
        assertThat(poll(q)).isEqualTo(new Item("a", 1));
        assertThat(q.lanes(0)).isEqualTo(1);
    }

    @Test
    void whenFullTheLongestLaneGivesWayInWhateverTierItIs() throws Exception {
        HandTiers tiers = new HandTiers();
        tiers.tierOf.put("trusted", 0);
        FairQueue<String, Item> q = new FairQueue<>(4, 4, tiers);
        for (int i = 0; i < 4; i++) {
            q.offer("trusted", new Item("trusted", i));
        }
        tiers.tierOf.put("bad", 2);
        assertThat(q.offer("bad", new Item("bad", 0)))
                .isEqualTo(new FairQueue.AdmittedEvicting<>(new Item("trusted", 0)));
        assertThat(q.lanes(0)).isEqualTo(1);
        assertThat(q.lanes(2)).isEqualTo(1);
        List<Item> served = new ArrayList<>();
        for (Item i = poll(q); i != null; i = poll(q)) {
            served.add(i);
        }
        assertThat(served).hasSize(4).contains(new Item("bad", 0));
        assertThat(q.lanes()).isZero();
        assertThat(q.lanes(0) + q.lanes(1) + q.lanes(2)).isZero();
    }

    @Test
    void aTierOutOfRangeIsABug() {
        HandTiers tiers = new HandTiers();
        tiers.tierOf.put("x", 3);
        FairQueue<String, Item> q = new FairQueue<>(4, 4, tiers);
        assertThatThrownBy(() -> q.offer("x", new Item("x", 0))).isInstanceOf(IllegalStateException.class);
        assertThat(q.size()).isZero();
    }

    @Test
    void argumentsAreChecked() {
        assertThatThrownBy(() -> new FairQueue<String, Item>(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FairQueue<String, Item>(1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
