package dev.certknock.server.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
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

    @Test
    void argumentsAreChecked() {
        assertThatThrownBy(() -> new FairQueue<String, Item>(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FairQueue<String, Item>(1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
