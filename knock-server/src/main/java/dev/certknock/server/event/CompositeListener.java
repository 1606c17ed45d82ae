package dev.certknock.server.event;

import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Verdict;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;
import javax.security.auth.x500.X500Principal;

final class CompositeListener implements KnockEventListener {

    private final List<KnockEventListener> listeners;

    CompositeListener(List<KnockEventListener> listeners) {
        this.listeners = listeners;
    }

    private void each(Consumer<KnockEventListener> call) {
        for (KnockEventListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                // A listener bug must not stop the pipeline or the other listeners.
            }
        }
    }

    @Override
    public void received(InetSocketAddress source, int length) {
        each(l -> l.received(source, length));
    }

    @Override
    public void dropped(Verdict.Dropped verdict, KnockView context) {
        each(l -> l.dropped(verdict, context));
    }

    @Override
    public void accepted(Verdict.Accepted verdict, KnockView context) {
        each(l -> l.accepted(verdict, context));
    }

    @Override
    public void grantOpened(GrantDecision decision) {
        each(l -> l.grantOpened(decision));
    }

    @Override
    public void grantClosed(GrantDecision decision, CloseReason why) {
        each(l -> l.grantClosed(decision, why));
    }

    @Override
    public void crlAccepted(X500Principal issuer, BigInteger crlNumber, int newlyRevoked) {
        each(l -> l.crlAccepted(issuer, crlNumber, newlyRevoked));
    }

    @Override
    public void crlFailed(String origin, String reason) {
        each(l -> l.crlFailed(origin, reason));
    }

    @Override
    public void crlFreshness(X500Principal issuer, boolean fresh) {
        each(l -> l.crlFreshness(issuer, fresh));
    }

    @Override
    public void internalError(String where, Throwable error) {
        each(l -> l.internalError(where, error));
    }
}
