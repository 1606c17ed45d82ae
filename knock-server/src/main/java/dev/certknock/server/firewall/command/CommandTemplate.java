package dev.certknock.server.firewall.command;

import dev.certknock.protocol.grant.PortGrant;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An argv array with placeholders, such as
 * {@code [/usr/local/bin/fw-open, --address, {address}, --port, {protocol}/{ports}, --for, {seconds}]}.
 * Each placeholder is replaced inside the one argv element that holds it; the result is run directly
 * (no shell), so a value can never become a second argument or a command.
 *
 * <p>Placeholders: {@code {address}} (IPv4 dotted or IPv6 text, no zone), {@code {family}} ({@code ipv4} or
 * {@code ipv6}), {@code {protocol}} ({@code tcp} or {@code udp}), {@code {firstPort}}, {@code {lastPort}},
 * {@code {ports}} ({@code 22} or {@code 8000-8100}), {@code {seconds}} (the grant's duration in whole
 * seconds, rounded up, at least 1) and {@code {serial}} (the certificate serial in lower-case hex). A word
 * in braces that is not one of these is refused when the template is read (a typo would otherwise reach
 * the firewall); other braces (e.g. {@code { $_ }} in PowerShell) are left as they are. The program
 * (argv[0]) may not contain placeholders.
 *
 * <p>Every value is checked against a strict pattern (digits, hex, dots and colons only) before it is
 * substituted, so even a template that hands its argument to an interpreter (PowerShell
 * {@code -Command}, {@code ssh host ...}) receives no metacharacters from a knock.
 */
public final class CommandTemplate {

    /** The placeholders a template may use. */
    public enum Placeholder {
        ADDRESS("address"), FAMILY("family"), PROTOCOL("protocol"), FIRST_PORT("firstPort"), LAST_PORT("lastPort"),
        PORTS("ports"), SECONDS("seconds"), SERIAL("serial");

        private final String token;

        Placeholder(String token) {
            this.token = token;
        }

        /** The name between the braces. */
        public String token() {
            return token;
        }

        static Placeholder of(String token) {
            for (Placeholder p : values()) {
                if (p.token.equals(token)) {
                    return p;
                }
            }
            return null;
        }
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z]+)}");
    private static final Pattern ADDRESS = Pattern.compile("[0-9a-fA-F.:]{2,45}");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,10}");
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{1,64}");

    private final List<String> argv;

    private CommandTemplate(List<String> argv) {
        this.argv = argv;
    }

    /**
     * Reads a template.
     *
     * @param what for messages, e.g. {@code firewall.command.open}
     * @throws IllegalArgumentException when it is empty, argv[0] holds a placeholder, or a placeholder is unknown
     */
    public static CommandTemplate parse(String what, List<String> argv) {
        if (argv == null || argv.isEmpty() || argv.get(0) == null || argv.get(0).isBlank()) {
            throw new IllegalArgumentException(what + " is empty: give the program and its arguments as a list");
        }
        for (int i = 0; i < argv.size(); i++) {
            String element = argv.get(i);
            if (element == null) {
                throw new IllegalArgumentException(what + " has an empty element at position " + i);
            }
            Matcher m = PLACEHOLDER.matcher(element);
            while (m.find()) {
                if (Placeholder.of(m.group(1)) == null) {
                    throw new IllegalArgumentException(what + ": unknown placeholder {" + m.group(1) + "} in '" + element
                            + "'; known: {address} {family} {protocol} {firstPort} {lastPort} {ports} {seconds} {serial}");
                }
                if (i == 0) {
                    throw new IllegalArgumentException(
                            what + ": the program '" + element + "' may not contain a placeholder");
                }
            }
        }
        return new CommandTemplate(List.copyOf(argv));
    }

    /** The template as written. */
    public List<String> argv() {
        return argv;
    }

    /**
     * The values for one grant element, each checked against its pattern.
     *
     * @throws IllegalArgumentException when a value does not have the expected form
     */
    public static Map<Placeholder, String> values(InetAddress address, PortGrant grant, Duration duration,
            BigInteger serial) {
        String text;
        try {
            // rebuilt from the bytes: drops any IPv6 zone (%eth0), which is not an address character
            text = InetAddress.getByAddress(address.getAddress()).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + address, e);
        }
        if (serial.signum() < 0) {
            throw new IllegalArgumentException("a certificate serial is never negative: " + serial);
        }
        long seconds = Math.max(1, duration.toSeconds() + (duration.toNanosPart() > 0 ? 1 : 0));
        Map<Placeholder, String> v = new EnumMap<>(Placeholder.class);
        v.put(Placeholder.ADDRESS, check(ADDRESS, "address", text));
        v.put(Placeholder.FAMILY, address instanceof Inet4Address ? "ipv4" : "ipv6");
        v.put(Placeholder.PROTOCOL, check(Pattern.compile("tcp|udp"), "protocol", grant.protocol().label()));
        v.put(Placeholder.FIRST_PORT, check(DIGITS, "first port", Integer.toString(grant.firstPort())));
        v.put(Placeholder.LAST_PORT, check(DIGITS, "last port", Integer.toString(grant.lastPort())));
        v.put(Placeholder.PORTS, grant.isSinglePort() ? v.get(Placeholder.FIRST_PORT)
                : v.get(Placeholder.FIRST_PORT) + "-" + v.get(Placeholder.LAST_PORT));
        v.put(Placeholder.SECONDS, check(DIGITS, "seconds", Long.toString(seconds)));
        v.put(Placeholder.SERIAL, check(HEX, "serial", serial.toString(16).toLowerCase(Locale.ROOT)));
        return v;
    }

    private static String check(Pattern pattern, String what, String value) {
        if (!pattern.matcher(value).matches()) {
            throw new IllegalArgumentException("refusing to pass " + what + " '" + value + "' to a command");
        }
        return value;
    }

    /** The argv with every placeholder replaced, each inside its own element. */
    public List<String> render(Map<Placeholder, String> values) {
        List<String> out = new ArrayList<>(argv.size());
        for (String element : argv) {
            Matcher m = PLACEHOLDER.matcher(element);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                Placeholder p = Placeholder.of(m.group(1));
                m.appendReplacement(sb, Matcher.quoteReplacement(values.get(p)));
            }
            m.appendTail(sb);
            out.add(sb.toString());
        }
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return String.join(" ", argv);
    }
}
