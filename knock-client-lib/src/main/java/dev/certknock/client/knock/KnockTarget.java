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

    /**
     * Checks the components.
     *
     * @param host name or address literal
     * @param knockPort the server's UDP knock port, 1 to 65535
     * @param serverCertificates the server certificate first, then any intermediates
     * @param ipPreference which address family to use
     */
    public KnockTarget {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(serverCertificates, "serverCertificates");
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

    /**
     * A target on the default knock port, any address family.
     *
     * @param host name or address literal
     * @param serverCertificate the server's certificate
     * @return the target
     */
    public static KnockTarget of(String host, X509Certificate serverCertificate) {
        Objects.requireNonNull(serverCertificate, "serverCertificate");
        return new KnockTarget(host, DEFAULT_KNOCK_PORT, List.of(serverCertificate), IpPreference.ANY);
    }

    /**
     * A target on the default knock port, any address family, with the certificates of a server certificate file
     * ({@link dev.certknock.client.CertificateFiles#read}): the server certificate first, then any intermediates.
     *
     * @param host name or address literal
     * @param serverCertificates the server certificate first, then any intermediate CA certificates
     * @return the target
     */
    public static KnockTarget of(String host, List<X509Certificate> serverCertificates) {
        return new KnockTarget(host, DEFAULT_KNOCK_PORT, serverCertificates, IpPreference.ANY);
    }

    /**
     * This target on another knock port.
     *
     * @param port the server's UDP knock port, 1 to 65535
     * @return the new target
     */
    public KnockTarget withKnockPort(int port) {
        return new KnockTarget(host, port, serverCertificates, ipPreference);
    }

    /**
     * This target with another address family preference.
     *
     * @param preference which address family to use when the name has both
     * @return the new target
     */
    public KnockTarget withIpPreference(IpPreference preference) {
        return new KnockTarget(host, knockPort, serverCertificates, preference);
    }

    /**
     * The server certificate.
     *
     * @return the first of {@link #serverCertificates()}
     */
    public X509Certificate serverCertificate() {
        return serverCertificates.get(0);
    }
}
