package dev.certknock.server.firewall;

import java.util.List;

/**
 * What a firewall backend does, and nothing more: renders a batch of element changes and applies it. Who holds an
 * element, until when, limits, revocation and events are the {@link GrantLedger}'s, the same for every backend.
 * Called by the ledger only, under its lock.
 */
public interface ElementWriter extends AutoCloseable {

    /** Creates or reconciles what the backend needs (table, sets, rules); elements already present are kept. */
    void setUp() throws FirewallException;

    /**
     * Applies the changes, every removal before every addition, as one transaction where the backend has them
     * (nftables, ipset); a failure means none of it (or, for {@code command}, not all of it) took effect.
     */
    void apply(List<ElementChange> batch) throws FirewallException;

    /** The elements the backend holds now (at start: those left by an earlier run). */
    List<HeldElement> list() throws FirewallException;

    /**
     * True when the backend closes every element at its expiry by itself (kernel timeouts): the ledger then only
     * forgets it. False ({@code command}): the ledger removes expired elements itself.
     */
    boolean expiresByItself();

    /**
     * Checks a batch as {@link #apply} would write it, changing nothing: the start-up rehearsal's writes
     * ({@link GrantLedger#rehearsal}). Backends with a dry run (nftables: {@code nft -c}) run it; the others
     * ({@code ipset restore} and an operator's command have none) do nothing here.
     */
    default void check(List<ElementChange> batch) throws FirewallException {
    }

    /** Whether {@link #check} really asks the backend (only then does a rehearsal reach it). */
    default boolean hasDryRun() {
        return false;
    }

    /** Runs the write path once without changing any element, so the first real grant is as fast as the rest. */
    void warmUp();

    /** Removes every element (at stop, with {@code firewall.onStop: flush}). */
    void removeAll() throws FirewallException;

    /** For the start-up log: how this backend reaches the firewall. */
    String describe();

    @Override
    void close();
}
