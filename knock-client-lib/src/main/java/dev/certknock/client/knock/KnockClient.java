package dev.certknock.client.knock;

import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.protocol.knock.KnockSealer;
import dev.certknock.protocol.knock.KnockVersion;
import dev.certknock.protocol.knock.SealedKnock;
import dev.certknock.protocol.knock.ServerPublicKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Knocks on one server with one identity. Built once ({@link #builder}), then used from any number of threads:
 * its only mutable state is the {@link ObservedAddressCache}, which is thread-safe.
 *
 * <p>Each knock is checked before anything is sent: the server certificate chains to the client's CA and carries
 * id-kp-certknockServer; both certificates are within their validity (by the injected {@link Clock}); the grants,
 * the duration, the server name and any given address are inside what the client certificate allows; the
 * datagram fits in 1232 bytes. A failed check throws {@link KnockException} with its reason.
 *
 * <p>Knock v2 (the default) declares, and so signs, the address it is sent from; the server opens only for a
 * knock's source address that the knock declares. The address declared: the ones given in {@link KnockOptions};
 * else the address this server last reported for this route (the {@link ObservedAddressCache}); else the local
 * address of the route to the server. The knock goes from a fresh socket connected to the server, which then
 * waits for the server's reply (1 s unless set): {@code Opened} confirms the knock; {@code AddressNotSigned}
 * (behind NAT: the server saw another address) makes the client remember the address the server saw, seal the
 * same request again declaring it and send it again from the same socket, so that a NAT keeps the mapping (at most
 * {@value #MAX_ADDRESS_ROUNDS} times); no reply leaves the knock unconfirmed. Knock v1 (legacy servers) declares
 * only what is given and waits for nothing. {@link #awaitOpen} optionally confirms that a TCP port opened,
 * resending the knock a bounded number of times since UDP can be lost.
 */
public final class KnockClient {

    /** How many times a knock is sealed again for an address the server reported, before giving up. */
    public static final int MAX_ADDRESS_ROUNDS = 2;

    private final ClientIdentity identity;
    private final KnockTarget target;
    private final CertknockGrants grants;
    private final KnockSealer sealer;
    private final Clock clock;
    private final Duration probeTimeout;
    private final Duration retryPause;
    private final int maxResends;
    private final ObservedAddressCache observed;

    private KnockClient(Builder b, CertknockGrants grants, ServerPublicKey serverKey) {
        this.identity = b.identity;
        this.target = b.target;
        this.grants = grants;
        this.clock = b.clock;
        this.sealer = new KnockSealer(identity.credential(), serverKey, b.clock, b.random);
        this.probeTimeout = b.probeTimeout;
        this.retryPause = b.retryPause;
        this.maxResends = b.maxResends;
        this.observed = b.observed;
    }

    /**
     * A builder for a client of this identity knocking on this target.
     *
     * @param identity who knocks
     * @param target where the knocks go
     * @return the builder
     */
    public static Builder builder(ClientIdentity identity, KnockTarget target) {
        return new Builder(identity, target);
    }

    /**
     * Who knocks.
     *
     * @return the identity this client was built with
     */
    public ClientIdentity identity() {
        return identity;
    }

    /**
     * Where the knocks go.
     *
     * @return the target this client was built with
     */
    public KnockTarget target() {
        return target;
    }

    /**
     * What the client certificate allows.
     *
     * @return the grants extension of the client certificate
     */
    public CertknockGrants certificateGrants() {
        return grants;
    }

    /**
     * Checks and sends a knock for these grants with default options (v2, waiting up to 1 s for the reply).
     *
     * @param grants the ports to open, each inside one grant of the client certificate
     * @return what was sent and what the server said
     * @throws KnockException when a check fails or sending fails (see {@link #send})
     */
    public KnockReceipt knock(PortGrant... grants) throws KnockException {
        Objects.requireNonNull(grants, "grants");
        return knock(Arrays.asList(grants), KnockOptions.defaults());
    }

    /**
     * Checks and sends a knock, and waits for the reply as the options say.
     *
     * @param grants the ports to open, each inside one grant of the client certificate
     * @param options duration, declared addresses, version, reply wait
     * @return what was sent and what the server said
     * @throws KnockException when a check fails or sending fails (see {@link #send})
     */
    public KnockReceipt knock(List<PortGrant> grants, KnockOptions options) throws KnockException {
        return send(prepare(grants, options));
    }

    /**
     * Checks and seals a knock without sending it (a dry run). Touches the network only to discover the route's
     * local address, when the knock declares it or looks up the observed address of the route (resolving the host,
     * connecting a UDP socket: no packet).
     *
     * @param requested the ports to open, each inside one grant of the client certificate
     * @param options duration, declared addresses, version, reply wait
     * @return the sealed knock, for {@link #send}
     * @throws KnockException when a check fails (its reason says which)
     */
    public PreparedKnock prepare(List<PortGrant> requested, KnockOptions options) throws KnockException {
        Objects.requireNonNull(requested, "requested");
        for (PortGrant g : requested) {
            Objects.requireNonNull(g, "requested grant");
        }
        Objects.requireNonNull(options, "options");
        Instant now = clock.instant();
        CertificateChecks.requireClientChainValid(identity.credential().chain(), now);
        CertificateChecks.requireServerTrusted(target.serverCertificates(), identity, now);
        requireServerPermitted();
        int duration = duration(options);
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
        request = declare(request, options.declaredAddresses());
        InetSocketAddress resolved = null;
        AddressOrigin origin;
        if (!options.declaredAddresses().isEmpty()) {
            origin = AddressOrigin.GIVEN;
        } else if (!options.version().bindsAddress()) {
            origin = AddressOrigin.NONE;
        } else {
            resolved = resolve();
            InetAddress route = routeAddress(resolved);
            Optional<InetAddress> cached = observed.find(cacheKey(route)).filter(grants::permitsSource);
            if (cached.isPresent()) {
                origin = AddressOrigin.CACHED;
                request = withAddress(request, cached.get());
            } else {
                // Declared even when outside the certificate's sources: behind NAT this knock only learns the
                // public address from the server's reply, and that address faces the check before it is declared.
                origin = AddressOrigin.ROUTE;
                request = withAddress(request, route);
            }
        }
        return new PreparedKnock(seal(request, options.version()), resolved, origin, options);
    }

    /**
     * Sends a prepared knock from a fresh socket connected to the server, then waits for the server's reply as
     * the options said when it was prepared (see the class comment). No reply is a result
     * ({@link KnockOutcome.Unconfirmed}), not an exception.
     *
     * @throws KnockException when sending fails, when the server reports an address outside the certificate's
     *     sources ({@code SOURCE_NOT_PERMITTED}), or when it still reports another address after
     *     {@value #MAX_ADDRESS_ROUNDS} knocks sealed again ({@code ADDRESS_NOT_ACCEPTED})
     * @param prepared a knock {@link #prepare}d by this client
     * @return what was sent and what the server said
     */
    public KnockReceipt send(PreparedKnock prepared) throws KnockException {
        Objects.requireNonNull(prepared, "prepared");
        InetSocketAddress to = prepared.resolvedTarget().isPresent() ? prepared.resolvedTarget().get() : resolve();
        return exchange(prepared.sealed(), prepared.options(), prepared.addressOrigin(), to);
    }

    private KnockReceipt exchange(SealedKnock first, KnockOptions options, AddressOrigin origin, InetSocketAddress to)
            throws KnockException {
        try (DatagramSocket socket = new DatagramSocket()) {
            InetAddress local;
            try {
                socket.connect(to);
                local = socket.getLocalAddress();
            } catch (SocketException | UncheckedIOException e) {
                throw new KnockException(KnockException.Reason.NETWORK, "no route to " + to.getAddress().getHostAddress()
                        + ": " + e.getMessage(), e);
            }
            ObservedAddressCache.Key key = local == null || local.isAnyLocalAddress() ? null : cacheKey(local);
            SealedKnock knock = first;
            List<InetAddress> learned = new ArrayList<>();
            while (true) {
                long sentMillis = clock.millis();
                long sentNanos = System.nanoTime();
                sendOn(socket, knock.datagram(), to);
                if (!options.waitsForReply()) {
                    return receipt(knock, to, socket, origin, learned, new KnockOutcome.NotWaited());
                }
                Received received = awaitReply(socket, knock, options.replyTimeout());
                if (received.reply() == null) {
                    return receipt(knock, to, socket, origin, learned,
                            new KnockOutcome.Unconfirmed(received.waited(), received.portUnreachable()));
                }
                KnockReply reply = received.reply();
                InetAddress seen = reply.observedSource().getAddress();
                if (reply instanceof KnockReply.Opened opened) {
                    long midpoint = sentMillis + (received.atNanos() - sentNanos) / 2_000_000;
                    if (key != null) {
                        if (seen.equals(local)) {
                            observed.forget(key);
                        } else {
                            observed.remember(key, seen);
                        }
                    }
                    return receipt(knock, to, socket, origin, learned, new KnockOutcome.Confirmed(opened.openSeconds(),
                            opened.observedSource(), Duration.ofMillis(opened.serverTimeMillis() - midpoint)));
                }
                knock = sealAgain(knock, seen, learned);
                if (key != null) {
                    observed.remember(key, seen);
                }
                learned.add(seen);
            }
        } catch (SocketException e) {
            throw new KnockException(KnockException.Reason.NETWORK, "cannot open a UDP socket: " + e.getMessage(), e);
        }
    }

    /** After an AddressNotSigned reply that saw {@code seen}: the same request, declaring it. */
    private SealedKnock sealAgain(SealedKnock knock, InetAddress seen, List<InetAddress> learned)
            throws KnockException {
        KnockRequest r = knock.request();
        if (seen.equals(r.declaredIpv4().orElse(null)) || seen.equals(r.declaredIpv6().orElse(null))) {
            throw new KnockException(KnockException.Reason.ADDRESS_NOT_ACCEPTED, "the server reports that the knock "
                    + "came from " + seen.getHostAddress() + " and does not declare it, but it does: the server "
                    + "does not read the declared address as this client writes it (a server bug?)");
        }
        if (learned.size() >= MAX_ADDRESS_ROUNDS) {
            List<String> all = new ArrayList<>();
            for (InetAddress a : learned) {
                all.add(a.getHostAddress());
            }
            all.add(seen.getHostAddress());
            throw new KnockException(KnockException.Reason.ADDRESS_NOT_ACCEPTED, "the server saw each of "
                    + all.size() + " knocks from another address (" + String.join(", ", all) + ") though each "
                    + "declared the address it saw before: the network between you and the server (a carrier-grade "
                    + "or pooled NAT) maps every packet to a different address, so no knock can sign its own. Knock "
                    + "from another network, or through a VPN.");
        }
        if (!grants.permitsSource(seen)) {
            throw new KnockException(KnockException.Reason.SOURCE_NOT_PERMITTED, "the server sees your knocks "
                    + "coming from " + seen.getHostAddress() + ", and your certificate allows openings only for "
                    + grants.sources() + ": knock from a network inside those (a VPN, the office network), or ask "
                    + "for a certificate that allows this address");
        }
        return seal(withAddress(r, seen), knock.version());
    }

    /** A reply (null when none came in time), when it came, and how long the client waited. */
    private record Received(KnockReply reply, long atNanos, Duration waited, boolean portUnreachable) {
    }

    /** Reads datagrams until one is a reply to {@code knock} or the timeout passes; ignores everything else. */
    private static Received awaitReply(DatagramSocket socket, SealedKnock knock, Duration timeout) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        byte[] buffer = new byte[2048];
        boolean unreachable = false;
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return new Received(null, 0, Duration.ofNanos(System.nanoTime() - start), unreachable);
            }
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000)));
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                continue;
            } catch (PortUnreachableException e) {
                unreachable = true; // an ICMP error, unauthenticated: a hint only; keep waiting
                continue;
            } catch (IOException e) {
                return new Received(null, 0, Duration.ofNanos(System.nanoTime() - start), unreachable);
            }
            long at = System.nanoTime();
            Optional<KnockReply> reply = knock.openReply(packet.getData(), packet.getOffset(), packet.getLength());
            if (reply.isPresent()) {
                return new Received(reply.get(), at, Duration.ofNanos(at - start), unreachable);
            }
        }
    }

    private KnockReceipt receipt(SealedKnock knock, InetSocketAddress to, DatagramSocket socket, AddressOrigin origin,
            List<InetAddress> learned, KnockOutcome outcome) {
        KnockRequest r = knock.request();
        return new KnockReceipt(knock.size(), knock.timestampMillis(), to, socket.getLocalPort(), r.grants(),
                r.durationSeconds(), r.declaredIpv4(), r.declaredIpv6(), knock.version(), origin, learned, outcome);
    }

    private ObservedAddressCache.Key cacheKey(InetAddress route) {
        return new ObservedAddressCache.Key(target.host(), target.knockPort(), route);
    }

    /**
     * Waits until {@code tcpPort} on the knocked address accepts a TCP connection, or {@code timeout} passes.
     * Each attempt waits at most the probe timeout (500 ms unless set); while the port stays shut, the knock is
     * sent again (a new knock with a fresh nonce, same request and address, from a fresh socket) up to the resend
     * limit (3 unless set), spread evenly over the timeout; a resend waits for the server's reply as the first
     * knock did (up to 1 s, or what is left of the timeout). Timing out is a result
     * ({@link OpenConfirmation.Status#TIMED_OUT}), not an exception. An interrupt of the calling thread ends the
     * wait with {@link OpenConfirmation.Status#INTERRUPTED} and the thread's interrupt flag set again: at once
     * during a pause, after the running connection attempt or resend (at most the probe timeout, or the reply
     * wait of a resend) otherwise.
     *
     * @param sent the receipt of the knock to wait for ({@link #knock} or {@link #send})
     * @param tcpPort the TCP port to probe on the knocked address, 1 to 65535
     * @param timeout how long to wait in all, positive
     * @return how waiting ended
     * @throws KnockException when a resend fails its checks (the certificate expired meanwhile, for example)
     */
    public OpenConfirmation awaitOpen(KnockReceipt sent, int tcpPort, Duration timeout) throws KnockException {
        return awaitOpen(sent, tcpPort, timeout, AwaitListener.NONE);
    }

    /**
     * {@link #awaitOpen(KnockReceipt, int, Duration)} with a listener for progress.
     *
     * @param sent the receipt of the knock to wait for
     * @param tcpPort the TCP port to probe, 1 to 65535
     * @param timeout how long to wait in all, positive
     * @param listener hears each failed attempt and each resend, on the waiting thread
     * @return how waiting ended
     * @throws KnockException when a resend fails its checks
     */
    public OpenConfirmation awaitOpen(KnockReceipt sent, int tcpPort, Duration timeout, AwaitListener listener)
            throws KnockException {
        try (AwaitedConnection c = awaitConnection(sent, tcpPort, timeout, listener)) {
            return c.confirmation();
        } catch (IOException e) {
            throw new KnockException(KnockException.Reason.NETWORK, "closing the probe connection failed", e);
        }
    }

    /**
     * {@link #awaitOpen(KnockReceipt, int, Duration)} on a thread of {@code executor}, for callers that must not
     * block. The arguments are checked at once (a bad one throws here, not in the future). The future completes
     * with the confirmation, or exceptionally with the {@link KnockException} of a failed resend. Cancelling the
     * returned future ({@code cancel(true)} or {@code cancel(false)}) interrupts the wait, which stops as
     * {@link #awaitOpen(KnockReceipt, int, Duration)} says; cancelling a stage derived from it does not.
     *
     * @param sent the receipt of the knock to wait for
     * @param tcpPort the TCP port to probe, 1 to 65535
     * @param timeout how long to wait in all, positive
     * @param executor runs the wait; it blocks one of its threads for up to {@code timeout}
     * @return the future confirmation
     */
    public CompletableFuture<OpenConfirmation> awaitOpenAsync(KnockReceipt sent, int tcpPort, Duration timeout,
            Executor executor) {
        return awaitOpenAsync(sent, tcpPort, timeout, AwaitListener.NONE, executor);
    }

    /**
     * {@link #awaitOpenAsync(KnockReceipt, int, Duration, Executor)} with a listener for progress (called on the
     * executor's thread).
     *
     * @param sent the receipt of the knock to wait for
     * @param tcpPort the TCP port to probe, 1 to 65535
     * @param timeout how long to wait in all, positive
     * @param listener hears each failed attempt and each resend
     * @param executor runs the wait
     * @return the future confirmation
     */
    public CompletableFuture<OpenConfirmation> awaitOpenAsync(KnockReceipt sent, int tcpPort, Duration timeout,
            AwaitListener listener, Executor executor) {
        requireAwaitArguments(sent, tcpPort, timeout, listener);
        Objects.requireNonNull(executor, "executor");
        AsyncWait wait = new AsyncWait();
        executor.execute(() -> wait.run(() -> awaitOpen(sent, tcpPort, timeout, listener)));
        return wait;
    }

    /**
     * The future of {@link #awaitOpenAsync}: cancelling it interrupts the thread that waits, never a thread that
     * has moved on to other work.
     */
    private static final class AsyncWait extends CompletableFuture<OpenConfirmation> {
        private final Object lock = new Object();
        private Thread worker;
        private boolean finished;

        interface Wait {
            OpenConfirmation await() throws KnockException;
        }

        void run(Wait wait) {
            synchronized (lock) {
                if (isDone()) {
                    return; // cancelled before it started
                }
                worker = Thread.currentThread();
            }
            try {
                complete(wait.await());
            } catch (KnockException | RuntimeException | Error e) {
                completeExceptionally(e);
            } finally {
                synchronized (lock) {
                    worker = null;
                    finished = true;
                }
                if (isCancelled()) {
                    // The interrupt was this future's, not the executor's: do not leave it on the pool's thread.
                    Thread.interrupted();
                }
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            synchronized (lock) {
                if (cancelled && worker != null && !finished) {
                    worker.interrupt();
                }
            }
            return cancelled;
        }
    }

    private static void requireAwaitArguments(KnockReceipt sent, int tcpPort, Duration timeout,
            AwaitListener listener) {
        Objects.requireNonNull(sent, "sent");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(listener, "listener");
        if (tcpPort < 1 || tcpPort > 65535) {
            throw new IllegalArgumentException("TCP port " + tcpPort + " is outside 1-65535");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout must be positive, not " + timeout);
        }
    }

    /**
     * Like {@link #awaitOpen(KnockReceipt, int, Duration, AwaitListener)}, but keeps the connection that
     * succeeded, for a caller that wants to use it (the ssh proxy).
     *
     * @param sent the receipt of the knock to wait for
     * @param tcpPort the TCP port to probe, 1 to 65535
     * @param timeout how long to wait in all, positive
     * @param listener hears each failed attempt and each resend
     * @return the confirmation, and the connected socket when the port opened (close it)
     * @throws KnockException when a resend fails its checks
     */
    public AwaitedConnection awaitConnection(KnockReceipt sent, int tcpPort, Duration timeout, AwaitListener listener)
            throws KnockException {
        requireAwaitArguments(sent, tcpPort, timeout, listener);
        InetSocketAddress probe = new InetSocketAddress(sent.target().getAddress(), tcpPort);
        long start = System.nanoTime();
        long timeoutNanos = timeout.toNanos();
        int attempts = 0;
        int knocks = 1;
        KnockReceipt last = sent;
        while (true) {
            long elapsed = System.nanoTime() - start;
            if (Thread.currentThread().isInterrupted()) {
                return new AwaitedConnection(new OpenConfirmation(OpenConfirmation.Status.INTERRUPTED,
                        Duration.ofNanos(elapsed), attempts, knocks), null);
            }
            long remaining = timeoutNanos - elapsed;
            if (remaining <= 0) {
                return new AwaitedConnection(new OpenConfirmation(OpenConfirmation.Status.TIMED_OUT,
                        Duration.ofNanos(elapsed), attempts, knocks), null);
            }
            attempts++;
            long attemptStart = System.nanoTime();
            Socket socket = tryConnect(probe, Math.max(1, Math.min(probeTimeout.toMillis(), remaining / 1_000_000)));
            if (socket != null) {
                return new AwaitedConnection(new OpenConfirmation(OpenConfirmation.Status.OPENED,
                        Duration.ofNanos(System.nanoTime() - start), attempts, knocks), socket);
            }
            elapsed = System.nanoTime() - start;
            listener.attemptFailed(attempts, Duration.ofNanos(elapsed));
            if (Thread.currentThread().isInterrupted()) {
                continue; // reported at the top of the loop
            }
            if (knocks - 1 < maxResends && elapsed >= resendDue(knocks - 1, timeoutNanos)) {
                last = resend(last, timeoutNanos - elapsed);
                knocks++;
                listener.knockResent(last, knocks, Duration.ofNanos(elapsed));
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
                    Thread.currentThread().interrupt(); // reported at the top of the loop
                }
            }
        }
    }

    /** Sends {@code last}'s request again: same version, same address, waiting for a reply if it did. */
    private KnockReceipt resend(KnockReceipt last, long leftNanos) throws KnockException {
        boolean waited = !(last.outcome() instanceof KnockOutcome.NotWaited);
        Duration wait = Duration.ofNanos(Math.max(1_000_000, Math.min(leftNanos,
                KnockOptions.DEFAULT_REPLY_TIMEOUT.toNanos())));
        KnockOptions options = KnockOptions.defaults().withVersion(last.version()).withReplyTimeout(wait);
        if (!waited) {
            options = options.withoutReply();
        }
        AddressOrigin origin = last.learnedAddresses().isEmpty() ? last.addressOrigin() : AddressOrigin.LEARNED;
        return exchange(seal(last.request(), last.version()), options, origin, last.target());
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

    /** The request declaring {@code a} in place of any declared address of its family. */
    private static KnockRequest withAddress(KnockRequest request, InetAddress a) {
        if (a instanceof Inet4Address v4) {
            return request.withDeclaredIpv4(v4);
        }
        return request.withDeclaredIpv6((Inet6Address) a);
    }

    private SealedKnock seal(KnockRequest request, KnockVersion version) throws KnockException {
        try {
            return sealer.withVersion(version).seal(request);
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

    private static void sendOn(DatagramSocket socket, byte[] datagram, InetSocketAddress to) throws KnockException {
        try {
            socket.send(new DatagramPacket(datagram, datagram.length));
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

    /**
     * Builds a {@link KnockClient}. Defaults: system UTC clock, a new SecureRandom, 500 ms probes, 3 resends, an
     * in-memory cache of observed addresses.
     */
    public static final class Builder {
        private final ClientIdentity identity;
        private final KnockTarget target;
        private Clock clock = Clock.systemUTC();
        private SecureRandom random;
        private Duration probeTimeout = Duration.ofMillis(500);
        private Duration retryPause = Duration.ofMillis(200);
        private int maxResends = 3;
        private ObservedAddressCache observed = ObservedAddressCache.inMemory(InMemoryObservedAddressCache.DEFAULT_MAX_ENTRIES);
        private String serverName;

        private Builder(ClientIdentity identity, KnockTarget target) {
            this.identity = Objects.requireNonNull(identity, "identity");
            this.target = Objects.requireNonNull(target, "target");
        }

        /**
         * The time source for timestamps and validity checks (tests inject a fixed one).
         *
         * @param clock the clock (default: the system's, UTC)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The randomness for nonces and ephemeral keys.
         *
         * @param random the source (default: a new {@link SecureRandom})
         * @return this builder
         */
        public Builder random(SecureRandom random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * How long one TCP connection attempt of {@link #awaitOpen} may take.
         *
         * @param timeout positive (default 500 ms)
         * @return this builder
         */
        public Builder probeTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the probe timeout must be positive");
            }
            this.probeTimeout = timeout;
            return this;
        }

        /**
         * The least time between two connection attempts of {@link #awaitOpen}.
         *
         * @param pause zero or more (default 200 ms)
         * @return this builder
         */
        public Builder retryPause(Duration pause) {
            Objects.requireNonNull(pause, "pause");
            if (pause.isNegative()) {
                throw new IllegalArgumentException("the retry pause must not be negative");
            }
            this.retryPause = pause;
            return this;
        }

        /**
         * How often {@link #awaitOpen} may send the knock again.
         *
         * @param resends 0 to 10 (default 3)
         * @return this builder
         */
        public Builder maxResends(int resends) {
            if (resends < 0 || resends > 10) {
                throw new IllegalArgumentException("resends " + resends + " is outside 0-10");
            }
            this.maxResends = resends;
            return this;
        }

        /**
         * Where the addresses servers report are remembered (default: in memory, 64 entries, for this client
         * only); {@link ObservedAddressCache#NONE} remembers nothing.
         *
         * @param cache a thread-safe cache
         * @return this builder
         */
        public Builder observedAddresses(ObservedAddressCache cache) {
            this.observed = Objects.requireNonNull(cache, "cache");
            return this;
        }

        /**
         * The name the server certificate must carry, when it is not the target's host: for a server knocked on
         * by an address or another name than its certificate lists, deliberately. Default: the target's host.
         * The certificate must still name this one (DNS or IP address subjectAltName).
         *
         * @param name a DNS name or an IP address literal
         * @return this builder
         */
        public Builder serverName(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("the server name is empty");
            }
            this.serverName = name;
            return this;
        }

        /**
         * Checks what does not change with time: the client certificate is a certknock client certificate with
         * grants, and the server certificate a certknock server certificate with a P-256 or X25519 key that names
         * the target's host (or the {@link #serverName} given), as TLS checks a server's name (RFC 6125: DNS
         * names, a wildcard only as the whole left-most label; IP address literals against IP address names).
         *
         * @return the client
         * @throws KnockException when a certificate is not fit for knocks, or the server certificate does not name
         *     the server (its reason says how)
         */
        public KnockClient build() throws KnockException {
            CertknockGrants grants = CertificateChecks.clientGrants(identity.certificate());
            CertificateChecks.requireServerUsage(target.serverCertificate());
            ServerNames.require(target.serverCertificate(), serverName != null ? serverName : target.host());
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
