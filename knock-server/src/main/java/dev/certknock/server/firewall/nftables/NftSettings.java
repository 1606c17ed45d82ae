package dev.certknock.server.firewall.nftables;

import dev.certknock.protocol.grant.PortGrant;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Configuration of the nftables backend.
 *
 * @param table the name of the {@code inet} table the server owns (letters, digits and underscore,
 *     starting with a letter, at most 32 characters); nothing outside it is ever touched
 * @param knockPort the UDP port knocks arrive on; dropped in the table so the host never answers it
 * @param protect the port ranges that are closed unless granted
 * @param reject reject closed ports (TCP reset, ICMP port unreachable) instead of dropping silently
 * @param commandPrefix words put before {@code nft} on every command line, for example
 *     {@code ["ip", "netns", "exec", "ns1"]}; empty to run {@code nft} directly
 */
public record NftSettings(String table, int knockPort, List<PortGrant> protect, boolean reject,
        List<String> commandPrefix) {

    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,31}");

    /** The table name used when none is configured. */
    public static final String DEFAULT_TABLE = "certknock";

    public NftSettings {
        Objects.requireNonNull(table, "table");
        if (!TABLE_NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("nftables table name '" + table
                    + "' is not valid: use letters, digits and underscore, starting with a letter, at most 32 characters");
        }
        if (knockPort < PortGrant.MIN_PORT || knockPort > PortGrant.MAX_PORT) {
            throw new IllegalArgumentException("knock port " + knockPort + " is outside 1-65535");
        }
        protect = List.copyOf(protect);
        commandPrefix = List.copyOf(commandPrefix);
    }
}
