package dev.certknock.protocol.grant;

import java.util.Locale;

/** Transport protocol of a port grant, with its IANA protocol number (the wire and ASN.1 value). */
public enum Protocol {
    TCP(6),
    UDP(17);

    private final int number;

    Protocol(int number) {
        this.number = number;
    }

    /** The IANA protocol number: 6 for TCP, 17 for UDP. */
    public int number() {
        return number;
    }

    /** Lower-case name as used in grant text ({@code tcp/22}) and in nftables. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The protocol with this IANA number, or null when it is neither TCP nor UDP. */
    public static Protocol ofNumber(long number) {
        for (Protocol p : values()) {
            if (p.number == number) {
                return p;
            }
        }
        return null;
    }

    /** Parses {@code tcp} or {@code udp}, case-insensitively. */
    public static Protocol parse(String text) {
        for (Protocol p : values()) {
            if (p.label().equalsIgnoreCase(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown protocol '" + text + "': use tcp or udp");
    }
}
