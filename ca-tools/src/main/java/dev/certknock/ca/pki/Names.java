package dev.certknock.ca.pki;

import dev.certknock.ca.CaException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;

/** Subject names: a common name encoded as UTF8String (Bouncy Castle's default style). */
public final class Names {

    private Names() {
    }

    /** {@code CN=name}, refused when empty, too long or holding control characters. */
    public static X500Name commonName(String name, String what) {
        if (name == null || name.isBlank()) {
            throw CaException.badInput(what + " is empty: give a name");
        }
        if (name.codePointCount(0, name.length()) > 64) {
            throw CaException.badInput(what + " '" + name + "' is longer than 64 characters (the X.520 limit for a common name)");
        }
        if (name.codePoints().anyMatch(c -> c < 0x20 || (c >= 0x7f && c < 0xa0))) {
            throw CaException.badInput(what + " contains control characters: use printable text");
        }
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name.strip()).build();
    }

    /** A DNS host name (LDH labels), lower-cased; refused otherwise. */
    public static String dnsName(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        boolean ok = !n.isEmpty() && n.length() <= 253;
        for (String label : n.split("\\.", -1)) {
            ok &= label.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
        }
        if (!ok) {
            throw CaException.badInput("'" + name + "' is not a DNS host name: use letters, digits and hyphens in dot-separated labels, e.g. gw1.example.test");
        }
        return n;
    }

    /**
     * An IPv4 or IPv6 address literal as Java writes it (IPv6 uncompressed, lower case); refused otherwise. Never
     * looks a name up.
     */
    public static String ipAddress(String text) {
        String t = text == null ? "" : text.strip();
        boolean literal = !t.isEmpty() && (t.indexOf(':') >= 0
                ? t.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)
                : t.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}"));
        if (literal) {
            try {
                java.net.InetAddress a = java.net.InetAddress.getByName(t); // a literal: no lookup
                return a.getHostAddress();
            } catch (java.net.UnknownHostException e) {
                // the message below
            }
        }
        throw CaException.badInput("'" + text + "' is not an IP address: give an IPv4 or IPv6 address, e.g. 192.0.2.10 "
                + "or 2001:db8::10");
    }
}
