package dev.certknock.client.knock;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * Where knocks go: a host (a name, or an IPv4 or IPv6 literal), the server's knock port, and the server's
 * certificate (knocks are sealed to its key), optionally followed by intermediates that lead to the client's CA.
 *
 * @param host name or address literal; resolved at each knock
 * @param knockPort the server's UDP knock port, 1 to 65535
 * @param serverCertificates the server certificate first, then any intermediate CA certificates
 * @param ipPreference which address family to use when the name has both
 */
public record KnockTarget(String host, int knockPort, List<X509Certificate> serverCertificates,
        IpPreference ipPreference) {

    /** The knock port a certknock server listens on unless configured otherwise. */
    public static final int DEFAULT_KNOCK_PORT = 62201;

    public KnockTarget {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("the target host is empty");
        }
        if (knockPort < 1 || knockPort > 65535) {
            throw new IllegalArgumentException("knock port " + knockPort + " is outside 1-65535");
        }
        serverCertificates = List.copyOf(serverCertificates);
        if (serverCertificates.isEmpty()) {
            throw new IllegalArgumentException("no server certificate: knocks are sealed to the server's key");
        }
        Objects.requireNonNull(ipPreference, "ipPreference");
    }

    /** A target on the default knock port, any address family. */
    public static KnockTarget of(String host, X509Certificate serverCertificate) {
        return new KnockTarget(host, DEFAULT_KNOCK_PORT, List.of(serverCertificate), IpPreference.ANY);
    }

    public KnockTarget withKnockPort(int port) {
        return new KnockTarget(host, port, serverCertificates, ipPreference);
    }

    public KnockTarget withIpPreference(IpPreference preference) {
        return new KnockTarget(host, knockPort, serverCertificates, preference);
    }

    /** The server certificate. */
    public X509Certificate serverCertificate() {
        return serverCertificates.get(0);
    }
}
