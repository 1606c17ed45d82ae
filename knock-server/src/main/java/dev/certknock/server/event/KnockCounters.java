package dev.certknock.server.event;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Verdict;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/** Counts datagrams received, knocks accepted and drops per reason. Lock-free. */
public final class KnockCounters implements KnockEventListener {

    private final LongAdder received = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    private final AtomicLongArray drops = new AtomicLongArray(DropReason.values().length);
    private final java.util.Set<javax.security.auth.x500.X500Principal> staleIssuers =
            java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public void received(InetSocketAddress source, int length) {
        received.increment();
    }

    @Override
    public void dropped(Verdict.Dropped verdict, KnockView context) {
        count(verdict.reason());
    }

    /** Counts a drop that happened outside the pipeline (a full queue). */
    public void count(DropReason reason) {
        drops.incrementAndGet(reason.ordinal());
    }

    @Override
    public void accepted(Verdict.Accepted verdict, KnockView context) {
        accepted.increment();
    }

    @Override
    public void crlFreshness(javax.security.auth.x500.X500Principal issuer, boolean fresh) {
        if (fresh) {
            staleIssuers.remove(issuer);
        } else {
            staleIssuers.add(issuer);
        }
    }

    /** Forgets the stale issuers that are not among these (a reload removed their trust). */
    public void retainIssuers(java.util.Set<javax.security.auth.x500.X500Principal> trusted) {
        staleIssuers.retainAll(trusted);
    }

    /** Issuers whose knocks are refused now for want of a fresh CRL (a gauge). */
    public int staleCrlIssuers() {
        return staleIssuers.size();
    }

    public long received() {
        return received.sum();
    }

    public long accepted() {
        return accepted.sum();
    }

    public long dropped(DropReason reason) {
        return drops.get(reason.ordinal());
    }

    /** Non-zero drop counts, in catalogue order. */
    public Map<DropReason, Long> drops() {
        Map<DropReason, Long> out = new EnumMap<>(DropReason.class);
        for (DropReason r : DropReason.values()) {
            long n = drops.get(r.ordinal());
            if (n > 0) {
                out.put(r, n);
            }
        }
        return out;
    }
}
