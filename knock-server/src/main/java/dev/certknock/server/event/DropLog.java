package dev.certknock.server.event;

import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Verdict;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs drops at DEBUG, at most {@code perSecond} lines a second (a {@link LogThrottle}), the next line saying
 * how many were left out. Never above DEBUG: drops are what attackers cause. Internal errors are bugs and go
 * to ERROR, at most one line a second, also counted.
 */
public final class DropLog implements KnockEventListener {

    private static final Logger LOG = LoggerFactory.getLogger(DropLog.class);

    private final LogThrottle drops;
    private final LogThrottle errors;

    /**
     * @param nanoTime  a monotonic clock in nanoseconds ({@code System::nanoTime}), for the per-second limits
     * @param perSecond drop lines a second
     */
    public DropLog(LongSupplier nanoTime, int perSecond) {
        this.drops = new LogThrottle(perSecond, Duration.ofSeconds(1), nanoTime);
        this.errors = new LogThrottle(1, Duration.ofSeconds(1), nanoTime);
    }

    @Override
    public void dropped(Verdict.Dropped v, KnockView context) {
        if (!LOG.isDebugEnabled()) {
            return;
        }
        OptionalLong more = drops.acquire();
        if (more.isPresent()) {
            LOG.debug("dropped knock from {}: {} at {} ({}){}", v.source().getAddress().getHostAddress(), v.reason(),
                    v.stage(), LogText.of(v.detail()), notLogged(more.getAsLong(), "drops"));
        }
    }

    @Override
    public void internalError(String where, Throwable error) {
        OptionalLong more = errors.acquire();
        if (more.isPresent()) {
            LOG.error("internal error in {} (the datagram was dropped; please report this): {}{}", where,
                    LogText.of(error.toString()), notLogged(more.getAsLong(), "internal errors"), error);
        }
    }

    private static String notLogged(long count, String what) {
        return count == 0 ? "" : " [" + count + " more " + what + " not logged before this one]";
    }
}
