package dev.certknock.server.firewall.nftables;

import dev.certknock.server.firewall.FirewallException;
import java.util.List;

/** Runs nft: the only place the nftables backend touches the host. */
public interface NftExecutor {

    /** Applies a script as one atomic batch ({@code nft -f -}): all of it or none of it. */
    void apply(String script) throws FirewallException;

    /** Checks a script without applying it ({@code nft -c -f -}). */
    void check(String script) throws FirewallException;

    /** Runs {@code nft} with these arguments and returns what it printed, for listings. */
    String query(List<String> arguments) throws FirewallException;
}
