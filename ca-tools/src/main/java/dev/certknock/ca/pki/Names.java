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
}
