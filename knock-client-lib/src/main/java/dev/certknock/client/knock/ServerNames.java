package dev.certknock.client.knock;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Does the server certificate name the host a knock goes to? As TLS checks a server's name (RFC 6125, as updated
 * by RFC 9525): a host name against the certificate's DNS subjectAltNames, an IP address literal against its IP
 * address subjectAltNames, never the subject's common name. A wildcard is accepted only as the whole left-most
 * label of a DNS name with at least two more labels ({@code *.example.test} matches {@code gw1.example.test}, not
 * {@code example.test} nor {@code a.b.example.test}); partial wildcards ({@code gw*.example.test}) match nothing.
 * Names compare ignoring ASCII case and a trailing dot. Stateless.
 */
final class ServerNames {

    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    private ServerNames() {
    }

    /**
     * @param name the host knocked on, or the name given instead of it
     * @throws KnockException {@code SERVER_NAME_MISMATCH} when the certificate does not name {@code name}
     */
    static void require(X509Certificate certificate, String name) throws KnockException {
        if (matches(certificate, name)) {
            return;
        }
        List<String> listed = listed(certificate);
        throw new KnockException(KnockException.Reason.SERVER_NAME_MISMATCH, "the server certificate "
                + CertificateChecks.name(certificate) + " is not for " + name + ": it names "
                + (listed.isEmpty() ? "no host (no DNS or IP subjectAltName)" : String.join(", ", listed))
                + ". A knock sealed to another server's key is dropped unread by the server at " + name
                + ": use the certificate of the server you knock on, or knock on a name the certificate lists");
    }

    static boolean matches(X509Certificate certificate, String name) {
        String host = normalize(name);
        if (host.isEmpty()) {
            return false;
        }
        InetAddress literal = KnockClient.isAddressLiteral(host) ? literal(host) : null;
        for (List<?> entry : alternativeNames(certificate)) {
            Object type = entry.get(0);
            Object value = entry.get(1);
            if (!(value instanceof String s)) {
                continue;
            }
            if (literal != null && Integer.valueOf(IP_ADDRESS).equals(type)) {
                InetAddress listed = literal(s);
                if (listed != null && listed.equals(literal)) {
                    return true;
                }
            } else if (literal == null && Integer.valueOf(DNS_NAME).equals(type) && dnsMatches(normalize(s), host)) {
                return true;
            }
        }
        return false;
    }

    /** The certificate's DNS and IP subjectAltNames, for messages. */
    static List<String> listed(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        for (List<?> entry : alternativeNames(certificate)) {
            if ((Integer.valueOf(DNS_NAME).equals(entry.get(0)) || Integer.valueOf(IP_ADDRESS).equals(entry.get(0)))
                    && entry.get(1) instanceof String s) {
                InetAddress a = Integer.valueOf(IP_ADDRESS).equals(entry.get(0)) ? literal(s) : null;
                names.add(a != null ? a.getHostAddress() : s);
            }
        }
        return names;
    }

    private static boolean dnsMatches(String pattern, String host) {
        if (pattern.isEmpty()) {
            return false;
        }
        if (!pattern.startsWith("*.")) {
            return pattern.indexOf('*') < 0 && pattern.equals(host);
        }
        String rest = pattern.substring(2);
        // *.example.test: at least two labels after the wildcard, no other wildcard, exactly one label matched
        if (rest.indexOf('*') >= 0 || rest.indexOf('.') < 0 || rest.startsWith(".") || rest.endsWith(".")) {
            return false;
        }
        int dot = host.indexOf('.');
        return dot > 0 && host.substring(dot + 1).equals(rest);
    }

    private static String normalize(String name) {
        String n = name.strip();
        if (n.startsWith("[") && n.endsWith("]")) {
            n = n.substring(1, n.length() - 1);
        }
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        return n.toLowerCase(Locale.ROOT);
    }

    /** An IP address literal, parsed without any name lookup; null when {@code s} is none. */
    private static InetAddress literal(String s) {
        if (!KnockClient.isAddressLiteral(s) || s.isEmpty()) {
            return null;
        }
        try {
            return InetAddress.getByName(s); // a literal: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static List<List<?>> alternativeNames(X509Certificate certificate) {
        try {
            var alt = certificate.getSubjectAlternativeNames();
            List<List<?>> all = new ArrayList<>();
            if (alt != null) {
                for (List<?> entry : alt) {
                    if (entry.size() >= 2) {
                        all.add(entry);
                    }
                }
            }
            return all;
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }
}
