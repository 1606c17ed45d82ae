package dev.certknock.server.event;

import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Verdict;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * Everything that happens to knocks, grants and CRLs, for the audit log, metrics and tests: one
 * interface, every method optional. Implementations must be fast and must not throw.
 */
public interface KnockEventListener {

    default void received(InetSocketAddress source, int length) {
    }

    default void dropped(Verdict.Dropped verdict, KnockView context) {
    }

    default void accepted(Verdict.Accepted verdict, KnockView context) {
    }

    default void grantOpened(GrantDecision decision) {
    }

    /** Called once per decision whose last element closed, or whose hold on its elements ended. */
    default void grantClosed(GrantDecision decision, CloseReason why) {
    }

    default void crlAccepted(X500Principal issuer, BigInteger crlNumber, int newlyRevoked) {
    }

    default void crlFailed(String origin, String reason) {
    }

    /** An issuer's CRL became stale or missing ({@code fresh == false}: its knocks are refused), or fresh again. */
    default void crlFreshness(X500Principal issuer, boolean fresh) {
    }

    default void internalError(String where, Throwable error) {
    }

    /** Calls each listener in turn; one that throws does not stop the others. */
    static KnockEventListener composite(List<KnockEventListener> listeners) {
        List<KnockEventListener> all = List.copyOf(listeners);
        return new CompositeListener(all);
    }
}
