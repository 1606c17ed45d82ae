package dev.certknock.server.event;

import dev.certknock.server.pipeline.KnockContext;
import dev.certknock.server.pipeline.Verdict;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs drops at DEBUG, at most {@code perSecond} lines a second, then one line saying how many were
 * suppressed. Never above DEBUG: drops are what attackers cause. Internal errors are bugs and go to
 * ERROR, also rate-limited.
 */
public final class DropLog implements KnockEventListener {

    private static final Logger LOG = LoggerFactory.getLogger(DropLog.class);

    private final Clock clock;
    private final int perSecond;
    private final AtomicLong windowSecond = new AtomicLong(-1);
    private final AtomicLong inWindow = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();
    private final AtomicLong lastErrorSecond = new AtomicLong(-1);

    public DropLog(Clock clock, int perSecond) {
        this.clock = clock;
        this.perSecond = perSecond;
    }

    @Override
    public void dropped(Verdict.Dropped v, KnockContext context) {
        if (!LOG.isDebugEnabled()) {
            return;
        }
        if (admit()) {
            LOG.debug("dropped knock from {}: {} at {} ({})", v.source().getAddress().getHostAddress(), v.reason(),
                    v.stage(), LogText.of(v.detail()));
        }
    }

    @Override
    public void internalError(String where, Throwable error) {
        long second = clock.millis() / 1000;
        if (lastErrorSecond.getAndSet(second) != second) {
            LOG.error("internal error in {} (the datagram was dropped; please report this): {}", where, LogText.of(error.toString()), error);
        }
    }

    private boolean admit() {
        long second = clock.millis() / 1000;
        long prev = windowSecond.get();
        if (prev != second && windowSecond.compareAndSet(prev, second)) {
            inWindow.set(0);
            long s = suppressed.getAndSet(0);
            if (s > 0) {
                LOG.debug("{} more drops not logged in the previous second", s);
            }
        }
        if (inWindow.incrementAndGet() <= perSecond) {
            return true;
        }
        suppressed.incrementAndGet();
        return false;
    }
}
