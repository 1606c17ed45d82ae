package dev.certknock.protocol.grant;

import java.util.Objects;

/**
 * One protocol and an inclusive port range, such as {@code tcp/22} or {@code udp/8000-8100}.
 * Ports are 1 to 65535 and {@code lastPort >= firstPort}; a single port has both equal.
 */
public record PortGrant(Protocol protocol, int firstPort, int lastPort) implements Comparable<PortGrant> {

    public static final int MIN_PORT = 1;
    public static final int MAX_PORT = 65535;

    public PortGrant {
        Objects.requireNonNull(protocol, "protocol");
        if (firstPort < MIN_PORT || firstPort > MAX_PORT) {
            throw new IllegalArgumentException("port " + firstPort + " is outside 1-65535");
        }
        if (lastPort < MIN_PORT || lastPort > MAX_PORT) {
            throw new IllegalArgumentException("port " + lastPort + " is outside 1-65535");
        }
        if (lastPort < firstPort) {
            throw new IllegalArgumentException(
                    "port range " + firstPort + "-" + lastPort + " ends before it starts: write the lower port first");
        }
    }

    /** A grant of one port. */
    public static PortGrant single(Protocol protocol, int port) {
        return new PortGrant(protocol, port, port);
    }

    /**
     * Parses {@code tcp/22} or {@code udp/8000-8100}.
     *
     * @throws IllegalArgumentException with a message that says what is wrong and what is expected
     */
    public static PortGrant parse(String text) {
        Objects.requireNonNull(text, "text");
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException(
                    "grant '" + text + "' has no protocol: write PROTOCOL/PORT or PROTOCOL/FIRST-LAST, e.g. tcp/22 or udp/8000-8100");
        }
        Protocol protocol = Protocol.parse(text.substring(0, slash).trim());
        String ports = text.substring(slash + 1).trim();
        int dash = ports.indexOf('-');
        try {
            if (dash < 0) {
                int port = Integer.parseInt(ports);
                return new PortGrant(protocol, port, port);
            }
            return new PortGrant(protocol,
                    Integer.parseInt(ports.substring(0, dash).trim()),
                    Integer.parseInt(ports.substring(dash + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "grant '" + text + "' has no valid port: write PROTOCOL/PORT or PROTOCOL/FIRST-LAST, e.g. tcp/22 or udp/8000-8100");
        }
    }

    public boolean isSinglePort() {
        return firstPort == lastPort;
    }

    /** Number of ports in the range. */
    public int portCount() {
        return lastPort - firstPort + 1;
    }

    /** True when every port of {@code other} lies in this grant, for the same protocol. */
    public boolean contains(PortGrant other) {
        return protocol == other.protocol && firstPort <= other.firstPort && other.lastPort <= lastPort;
    }

    /** True when the two grants share at least one port of the same protocol. */
    public boolean overlaps(PortGrant other) {
        return protocol == other.protocol && firstPort <= other.lastPort && other.firstPort <= lastPort;
    }

    @Override
    public int compareTo(PortGrant o) {
        int c = protocol.compareTo(o.protocol);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(firstPort, o.firstPort);
        return c != 0 ? c : Integer.compare(lastPort, o.lastPort);
    }

    /** {@code tcp/22} or {@code udp/8000-8100}: the same text {@link #parse} reads. */
    @Override
    public String toString() {
        return protocol.label() + "/" + (isSinglePort() ? Integer.toString(firstPort) : firstPort + "-" + lastPort);
    }
}
