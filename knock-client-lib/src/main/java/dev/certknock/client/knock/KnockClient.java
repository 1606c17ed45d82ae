package dev.certknock.client.knock;

import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.SealedKnock;
import dev.certknock.protocol.knock.ServerPublicKey;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Knocks on one server with one identity. Built once ({@link #builder}), then used from any number of threads:
 * it holds no mutable state.
 *
 * <p>Each knock is checked before anything is sent: the server certificate chains to the client's CA and carries
 * id-kp-certknockServer; both certificates are within their validity (by the injected {@link Clock}); the grants,
 * the duration, the server name and any declared address are inside what the client certificate allows; the
 * datagram fits in 1232 bytes. A failed check throws {@link KnockException} with its reason.
 *
 * <p>A knock is one UDP datagram from a fresh random source port; the client never waits for a reply (the server
 * sends none). {@link #awaitOpen} optionally confirms that a TCP port opened, resending the knock a bounded number
 * of times since UDP can be lost.
 */
public final class KnockClient {

    private final ClientIdentity identity;
    private final KnockTarget target;
    private final CertknockGrants grants;
    private final KnockSealer sealer;
    private final Clock clock;
    private final Duration probeTimeout;
    private final Duration retryPause;
    private final int maxResends;

    private KnockClient(Builder b, CertknockGrants grants, ServerPublicKey serverKey) {
        this.identity = b.identity;
        this.target = b.target;
        this.grants = grants;
        this.clock = b.clock;
        this.sealer = new KnockSealer(identity.credential(), serverKey, b.clock, b.random);
        this.probeTimeout = b.probeTimeout;
        this.retryPause = b.retryPause;
        this.maxResends = b.maxResends;
    }

    /** A builder for a client of this identity knocking on this target. */
    public static Builder builder(ClientIdentity identity, KnockTarget target) {
        return new Builder(identity, target);
    }

    public ClientIdentity identity() {
        return identity;
    }

    public KnockTarget target() {
        return target;
    }

    /** What the client certificate allows. */
    public CertknockGrants certificateGrants() {
        return grants;
    }

    /** Checks and sends a knock for these grants with default options. */
    public KnockReceipt knock(PortGrant... grants) throws KnockException {
        return knock(Arrays.asList(grants), KnockOptions.defaults());
    }

    /** Checks and sends a knock. */
    public KnockReceipt knock(List<PortGrant> grants, KnockOptions options) throws KnockException {
        return send(prepare(grants, options));
    }

    /**
     * Checks and seals a knock without sending it (a dry run). Touches the network only to discover the route's
     * local address, when {@link KnockOptions#declareRouteAddress()} asks for it (resolving the host; no packet).
     */
    public PreparedKnock prepare(List<PortGrant> requested, KnockOptions options) throws KnockException {
        Objects.requireNonNull(requested, "requested");
        Objects.requireNonNull(options, "options");
        Instant now = clock.instant();
        CertificateChecks.requireClientChainValid(identity.credential().chain(), now);
        CertificateChecks.requireServerTrusted(target.serverCertificates(), identity, now);
        requireServerPermitted();
        int duration = duration(options);
        InetSocketAddress resolved = null;
        List<InetAddress> declared = new ArrayList<>(options.declaredAddresses());
        if (options.declareRouteAddress()) {
            resolved = resolve();
            declared.add(routeAddress(resolved));
        }
        KnockRequest request;
        try {
            request = KnockRequest.of(duration, requested);
        } catch (IllegalArgumentException e) {
            throw new KnockException(KnockException.Reason.INVALID_REQUEST, e.getMessage(), e);
        }
        for (PortGrant g : requested) {
            if (!grants.permits(g)) {
                throw new KnockException(KnockException.Reason.GRANT_NOT_PERMITTED, "your certificate does not grant "
                        + g + ": it grants " + describe(grants.grants())
                        + " (a request must lie inside one single grant)");
            }
        }
        request = declare(request, declared);
        return new PreparedKnock(seal(request), resolved);
    }

    /** Sends a prepared knock from a fresh random source port. Never waits for a reply. */
    public KnockReceipt send(PreparedKnock prepared) throws KnockException {
        InetSocketAddress to = prepared.resolvedTarget().isPresent() ? prepared.resolvedTarget().get() : resolve();
        KnockRequest r = prepared.request();
        int sourcePort = sendDatagram(prepared.datagram(), to);
        return new KnockReceipt(prepared.size(), prepared.timestampMillis(), to, sourcePort, r.grants(),
                r.durationSeconds(), r.declaredIpv4(), r.declaredIpv6());
    }

    /**
     * Waits until {@code tcpPort} on the knocked address accepts a TCP connection, or {@code timeout} passes.
     * Each attempt waits at most the probe timeout (500 ms unless set); while the port stays shut, the knock is
     * sent again (a new knock with a fresh nonce, same request and address) up to the resend limit (3 unless
     * set), spread evenly over the timeout. Timing out is a result, not an exception.
     *
     * @throws KnockException when a resend fails its checks (the certificate expired meanwhile, for example)
     */
    public OpenConfirmation awaitOpen(KnockReceipt sent, int tcpPort, Duration timeout) throws KnockException {
        return awaitOpen(sent, tcpPort, timeout, AwaitListener.NONE);
    }

    /** {@link #awaitOpen(KnockReceipt, int, Duration)} with a listener for progress. */
    public OpenConfirmation awaitOpen(KnockReceipt sent, int tcpPort, Duration timeout, AwaitListener listener)
            throws KnockException {
        try (AwaitedConnection c = awaitConnection(sent, tcpPort, timeout, listener)) {
            return c.confirmation();
        } catch (IOException e) {
            throw new KnockException(KnockException.Reason.NETWORK, "closing the probe connection failed", e);
        }
    }

    /**
     * Like {@link #awaitOpen(KnockReceipt, int, Duration, AwaitListener)}, but keeps the connection that
     * succeeded, for a caller that wants to use it (the ssh proxy).
     */
    public AwaitedConnection awaitConnection(KnockReceipt sent, int tcpPort, Duration timeout, AwaitListener listener)
            throws KnockException {
        Objects.requireNonNull(sent, "sent");
        Objects.requireNonNull(listener, "listener");
        if (tcpPort < 1 || tcpPort > 65535) {
            throw new IllegalArgumentException("TCP port " + tcpPort + " is outside 1-65535");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout must be positive, not " + timeout);
        }
        InetSocketAddress probe = new InetSocketAddress(sent.target().getAddress(), tcpPort);
        long start = System.nanoTime();
        long timeoutNanos = timeout.toNanos();
        int attempts = 0;
        int knocks = 1;
        while (true) {
            long elapsed = System.nanoTime() - start;
            long remaining = timeoutNanos - elapsed;
            if (remaining <= 0) {
                return new AwaitedConnection(new OpenConfirmation(false, Duration.ofNanos(elapsed), attempts, knocks), null);
            }
            attempts++;
            long attemptStart = System.nanoTime();
            Socket socket = tryConnect(probe, Math.max(1, Math.min(probeTimeout.toMillis(), remaining / 1_000_000)));
            if (socket != null) {
                return new AwaitedConnection(new OpenConfirmation(true, Duration.ofNanos(System.nanoTime() - start),
                        attempts, knocks), socket);
            }
            elapsed = System.nanoTime() - start;
            listener.attemptFailed(attempts, Duration.ofNanos(elapsed));
            if (knocks - 1 < maxResends && elapsed >= resendDue(knocks - 1, timeoutNanos)) {
                KnockReceipt again = send(new PreparedKnock(seal(sent.request()), sent.target()));
                knocks++;
                listener.knockResent(again, knocks, Duration.ofNanos(elapsed));
            }
            long pause = retryPause.toNanos() - (System.nanoTime() - attemptStart);
            long now = System.nanoTime() - start;
            long left = timeoutNanos - now;
            if (knocks - 1 < maxResends) {
                // Wake up in time for the next resend, so that none is skipped however long the pause.
                pause = Math.min(pause, resendDue(knocks - 1, timeoutNanos) - now);
            }
            if (pause > 0 && left > 0) {
                try {
                    Thread.sleep(Math.max(1, Duration.ofNanos(Math.min(pause, left)).toMillis()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new AwaitedConnection(new OpenConfirmation(false,
                            Duration.ofNanos(System.nanoTime() - start), attempts, knocks), null);
                }
            }
        }
    }

    /** When resend number {@code done + 1} is due: evenly spread, the last one before the deadline. */
    private long resendDue(int done, long timeoutNanos) {
        return timeoutNanos / (maxResends + 1) * (done + 1);
    }

    private static Socket tryConnect(InetSocketAddress address, long timeoutMillis) {
        Socket socket = new Socket();
        try {
            socket.connect(address, (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
            return socket;
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing was open
            }
            return null;
        }
    }

    private int duration(KnockOptions options) throws KnockException {
        if (options.durationSeconds().isEmpty()) {
            int d = KnockOptions.DEFAULT_DURATION_SECONDS;
            return grants.maxOpenSeconds().isPresent() ? Math.min(d, grants.maxOpenSeconds().getAsInt()) : d;
        }
        int d = options.durationSeconds().getAsInt();
        if (grants.maxOpenSeconds().isPresent() && d > grants.maxOpenSeconds().getAsInt()) {
            throw new KnockException(KnockException.Reason.DURATION_NOT_PERMITTED, "you asked for " + d
                    + " s but your certificate allows at most " + grants.maxOpenSeconds().getAsInt() + " s");
        }
        return d;
    }

    private void requireServerPermitted() throws KnockException {
        if (grants.servers().isEmpty()) {
            return;
        }
        List<String> names = new ArrayList<>(CertificateChecks.dnsNames(target.serverCertificate()));
        if (!isAddressLiteral(target.host())) {
            names.add(target.host());
        }
        for (String n : names) {
            if (grants.permitsServer(n)) {
                return;
            }
        }
        throw new KnockException(KnockException.Reason.SERVER_NOT_PERMITTED, "your certificate may knock only on "
                + grants.servers() + ", and this server is " + (names.isEmpty() ? "unnamed" : "known as " + names));
    }

    private KnockRequest declare(KnockRequest request, List<InetAddress> declared) throws KnockException {
        for (InetAddress a : declared) {
            if (a instanceof Inet4Address v4) {
                if (request.declaredIpv4().isPresent() && !request.declaredIpv4().get().equals(v4)) {
                    throw new KnockException(KnockException.Reason.INVALID_REQUEST, "two IPv4 addresses to declare ("
                            + request.declaredIpv4().get().getHostAddress() + ", " + v4.getHostAddress()
                            + "): a knock declares at most one IPv4 and one IPv6 address");
                }
                request = request.withDeclaredIpv4(v4);
            } else if (a instanceof Inet6Address v6) {
                if (request.declaredIpv6().isPresent() && !request.declaredIpv6().get().equals(v6)) {
                    throw new KnockException(KnockException.Reason.INVALID_REQUEST, "two IPv6 addresses to declare ("
                            + request.declaredIpv6().get().getHostAddress() + ", " + v6.getHostAddress()
                            + "): a knock declares at most one IPv4 and one IPv6 address");
                }
                request = request.withDeclaredIpv6(v6);
            }
            if (!grants.permitsSource(a)) {
                throw new KnockException(KnockException.Reason.SOURCE_NOT_PERMITTED, "your certificate allows "
                        + "openings only for " + grants.sources() + ", not for the declared " + a.getHostAddress());
            }
        }
        return request;
    }

    private SealedKnock seal(KnockRequest request) throws KnockException {
        try {
            return sealer.seal(request);
        } catch (IllegalArgumentException e) {
            throw new KnockException(KnockException.Reason.DATAGRAM_TOO_LARGE, e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new KnockException(KnockException.Reason.SIGNING_FAILED, "signing the knock failed: "
                    + e.getMessage(), e);
        }
    }

    private InetSocketAddress resolve() throws KnockException {
        String host = target.host();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new KnockException(KnockException.Reason.UNKNOWN_HOST, "cannot resolve host '" + host + "'", e);
        }
        for (InetAddress a : all) {
            if (target.ipPreference().accepts(a)) {
                return new InetSocketAddress(a, target.knockPort());
            }
        }
        throw new KnockException(KnockException.Reason.UNKNOWN_HOST, "host '" + host + "' has no "
                + (target.ipPreference() == IpPreference.IPV4 ? "IPv4" : "IPv6") + " address (it has "
                + describeAddresses(all) + ")");
    }

    /** The local address the kernel would send from: connecting a UDP socket sends no packet. */
    private static InetAddress routeAddress(InetSocketAddress to) throws KnockException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(to);
            InetAddress local = socket.getLocalAddress();
            if (local == null || local.isAnyLocalAddress()) {
                throw new KnockException(KnockException.Reason.NETWORK, "no route to " + to.getAddress().getHostAddress()
                        + ": cannot discover the local address to declare");
            }
            return local;
        } catch (SocketException e) {
            throw new KnockException(KnockException.Reason.NETWORK, "no route to " + to.getAddress().getHostAddress()
                    + ": " + e.getMessage(), e);
        }
    }

    private static int sendDatagram(byte[] datagram, InetSocketAddress to) throws KnockException {
        try (DatagramSocket socket = new DatagramSocket(0)) {
            socket.send(new DatagramPacket(datagram, datagram.length, to));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new KnockException(KnockException.Reason.NETWORK, "sending the knock to "
                    + to.getAddress().getHostAddress() + " port " + to.getPort() + " failed: " + e.getMessage(), e);
        }
    }

    static boolean isAddressLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    }

    private static String describe(List<PortGrant> list) {
        List<String> parts = new ArrayList<>();
        for (PortGrant g : list) {
            parts.add(g.toString());
        }
        return String.join(", ", parts);
    }

    private static String describeAddresses(InetAddress[] all) {
        List<String> parts = new ArrayList<>();
        for (InetAddress a : all) {
            parts.add(a.getHostAddress());
        }
        return String.join(", ", parts);
    }

    /** Builds a {@link KnockClient}. Defaults: system UTC clock, a new SecureRandom, 500 ms probes, 3 resends. */
    public static final class Builder {
        private final ClientIdentity identity;
        private final KnockTarget target;
        private Clock clock = Clock.systemUTC();
        private SecureRandom random;
        private Duration probeTimeout = Duration.ofMillis(500);
        private Duration retryPause = Duration.ofMillis(200);
        private int maxResends = 3;

        private Builder(ClientIdentity identity, KnockTarget target) {
            this.identity = Objects.requireNonNull(identity, "identity");
            this.target = Objects.requireNonNull(target, "target");
        }

        /** The time source for timestamps and validity checks (tests inject a fixed one). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The randomness for nonces and ephemeral keys. */
        public Builder random(SecureRandom random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** How long one TCP connection attempt of {@link #awaitOpen} may take. */
        public Builder probeTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the probe timeout must be positive");
            }
            this.probeTimeout = timeout;
            return this;
        }

        /** The least time between two connection attempts of {@link #awaitOpen}. */
        public Builder retryPause(Duration pause) {
            if (pause.isNegative()) {
                throw new IllegalArgumentException("the retry pause must not be negative");
            }
            this.retryPause = pause;
            return this;
        }

        /** How often {@link #awaitOpen} may send the knock again, 0 to 10. */
        public Builder maxResends(int resends) {
            if (resends < 0 || resends > 10) {
                throw new IllegalArgumentException("resends " + resends + " is outside 0-10");
            }
            this.maxResends = resends;
            return this;
        }

        /**
         * Checks what does not change with time: the client certificate is a certknock client certificate with
         * grants, and the server certificate a certknock server certificate with a P-256 or X25519 key.
         */
        public KnockClient build() throws KnockException {
            CertknockGrants grants = CertificateChecks.clientGrants(identity.certificate());
            CertificateChecks.requireServerUsage(target.serverCertificate());
            ServerPublicKey serverKey;
            try {
                serverKey = ServerPublicKey.fromCertificate(target.serverCertificate());
            } catch (IllegalArgumentException e) {
                throw new KnockException(KnockException.Reason.SERVER_KEY_UNSUPPORTED, e.getMessage(), e);
            }
            if (random == null) {
                random = new SecureRandom();
            }
            return new KnockClient(this, grants, serverKey);
        }
    }

    @Override
    public String toString() {
        return "KnockClient[" + identity + " -> " + target.host() + ":" + target.knockPort() + "]";
    }
}
