package dev.certknock.server.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.certknock.protocol.grant.PortGrant;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The server configuration, as read from config.yaml by {@link ConfigLoader}. Every section has safe
 * defaults except what only the operator can know (name, identity, trust anchors, protected ports).
 * Range checks live in the compact constructors, so a bad value is reported at its line and column.
 * docs/CONFIGURATION.md documents every key.
 */
public record ServerConfig(
        @JsonProperty(required = true) Server server,
        @JsonProperty(required = true) Trust trust,
        Crl crl,
        Knock knock,
        @JsonProperty(required = true) List<PortGrant> protect,
        Capture capture,
        Firewall firewall,
        Limits limits,
        Logging logging,
        Metrics metrics,
        Status status,
        Diagnostics diagnostics) {

    public ServerConfig {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(trust, "trust");
        crl = crl != null ? crl : Crl.DEFAULT;
        knock = knock != null ? knock : Knock.DEFAULT;
        protect = List.copyOf(Objects.requireNonNull(protect, "protect"));
        if (protect.isEmpty()) {
            throw new IllegalArgumentException("protect must list at least one port the server may open, e.g. tcp/22");
        }
        capture = capture != null ? capture : Capture.DEFAULT;
        firewall = firewall != null ? firewall : Firewall.DEFAULT;
        limits = limits != null ? limits : Limits.DEFAULT;
        logging = logging != null ? logging : Logging.DEFAULT;
        // metrics stays null when the section is absent: no endpoint unless configured
        status = status != null ? status : Status.DEFAULT;
        diagnostics = diagnostics != null ? diagnostics : Diagnostics.DEFAULT;
        boolean dropsKnockPort = firewall.backend() == FirewallBackend.NFTABLES || firewall.backend() == FirewallBackend.IPTABLES;
        if (dropsKnockPort && capture.mode() != CaptureMode.PCAP) {
            throw new InvalidValueException("firewall.backend", "firewall backend " + firewall.backend().name().toLowerCase(
                    java.util.Locale.ROOT) + " drops the knock port so the host stays silent, which a UDP socket would then "
                    + "never see: use capture.mode pcap with it");
        }
    }

    public record Server(@JsonProperty(required = true) String name,
            @JsonProperty(required = true) List<Identity> identities) {
        public Server {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("server.name must name this server, as client certificates list it");
            }
            identities = List.copyOf(identities);
            if (identities.isEmpty()) {
                throw new IllegalArgumentException("server.identities needs at least one PKCS#12 bundle with a knock key");
            }
        }
    }

    /** A PKCS#12 bundle with a knock key and certificate; the password comes from a file or an environment variable. */
    public record Identity(@JsonProperty(required = true) Path bundle, Path passwordFile, String passwordEnv) {
        public Identity {
            if ((passwordFile == null) == (passwordEnv == null)) {
                throw new IllegalArgumentException(
                        "give exactly one of passwordFile or passwordEnv for the bundle password (never the password itself)");
            }
        }
    }

    public record Trust(@JsonProperty(required = true) List<Path> anchors, List<Path> intermediates) {
        public Trust {
            anchors = List.copyOf(anchors);
            if (anchors.isEmpty()) {
                throw new IllegalArgumentException("trust.anchors needs at least one CA certificate (PEM)");
            }
            intermediates = intermediates == null ? List.of() : List.copyOf(intermediates);
        }
    }

    public record CrlSource(@JsonProperty(required = true) URI url) {
        public CrlSource {
            String scheme = url.getScheme();
            if (scheme == null || !List.of("http", "https", "file").contains(scheme)) {
                throw new IllegalArgumentException("CRL url must be http:, https: or file:, not " + url);
            }
        }
    }

    public record Crl(List<CrlSource> sources, Duration refreshInterval, Path cacheDir, Duration staleGrace,
            Duration connectTimeout, Duration responseTimeout, Integer maxBytes) {
        static final Crl DEFAULT = new Crl(null, null, null, null, null, null, null);

        public Crl {
            sources = sources == null ? List.of() : List.copyOf(sources);
            refreshInterval = atLeast("crl.refreshInterval", refreshInterval, Duration.ofMinutes(15), Duration.ofSeconds(1));
            cacheDir = cacheDir != null ? cacheDir : Path.of("/var/lib/certknock/crl");
            staleGrace = atLeast("crl.staleGrace", staleGrace, Duration.ZERO, Duration.ZERO);
            connectTimeout = atLeast("crl.connectTimeout", connectTimeout, Duration.ofSeconds(5), Duration.ofMillis(100));
            responseTimeout = atLeast("crl.responseTimeout", responseTimeout, Duration.ofSeconds(10), Duration.ofMillis(100));
            maxBytes = range("crl.maxBytes", maxBytes, 10 * 1024 * 1024, 1024, 256 * 1024 * 1024);
        }
    }

    public enum DeclaredAddressPolicy {
        @JsonProperty("use-source") USE_SOURCE,
        @JsonProperty("prefer-declared") PREFER_DECLARED,
        @JsonProperty("require-declared") REQUIRE_DECLARED,
        @JsonProperty("must-equal-source") MUST_EQUAL_SOURCE
    }

    /**
     * @param acceptVersion1 whether knock v1 is read at all (default false): a v1 knock that declares no address
     *     can be re-sent from another address, so only an operator with v1-only clients opts in
     * @param declaredAddress what a v1 knock opens; a v2 knock always opens its source, and only when it signs it
     * @param replies whether authenticated v2 knocks are answered (default true): without replies, clients behind
     *     NAT must be told their public address by hand
     * @param repliesPerSecond the most replies per second, server-wide
     * @param replayStore {@code local} (default), or the Redis URI of a gateway group's shared replay state
     *     (docs/DESIGN.md D36); may hold a password, so never logged as is ({@link #replayStoreForLogs()})
     * @param replayStoreTimeout how long a knock waits for the shared store before it is refused
     * @param replayStoreOutage what a knock gets while the shared store does not answer
     */
    public record Knock(Duration timestampWindow, Integer defaultOpenSeconds, Integer maxOpenSeconds,
            DeclaredAddressPolicy declaredAddress, Path replayJournal, Integer replayCapacity, Boolean acceptVersion1,
            Boolean replies, Integer repliesPerSecond, String replayStore, Duration replayStoreTimeout,
            ReplayStoreOutage replayStoreOutage) {
        static final Knock DEFAULT = new Knock(null, null, null, null, null, null, null, null, null, null, null, null);

        /** {@code knock.replayStore} when it is not given: no shared store. */
        public static final String LOCAL_REPLAY_STORE = "local";

        public Knock {
            timestampWindow = atLeast("knock.timestampWindow", timestampWindow, Duration.ofSeconds(30), Duration.ofSeconds(1));
            if (timestampWindow.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new InvalidValueException("knock.timestampWindow", "knock.timestampWindow " + timestampWindow.toSeconds()
                        + " s is over 10 minutes: a long window keeps replays possible for longer; fix the clocks instead");
            }
            maxOpenSeconds = range("knock.maxOpenSeconds", maxOpenSeconds, 3600, 1, 86_400);
            defaultOpenSeconds = range("knock.defaultOpenSeconds", defaultOpenSeconds, Math.min(60, maxOpenSeconds), 1, maxOpenSeconds);
            declaredAddress = declaredAddress != null ? declaredAddress : DeclaredAddressPolicy.USE_SOURCE;
            replayJournal = replayJournal != null ? replayJournal : Path.of("/var/lib/certknock/replay.journal");
            replayCapacity = range("knock.replayCapacity", replayCapacity, 1_000_000, 1_000, 50_000_000);
            acceptVersion1 = acceptVersion1 != null && acceptVersion1;
            replies = replies == null || replies;
            repliesPerSecond = range("knock.repliesPerSecond", repliesPerSecond, 200, 1, 100_000);
            replayStore = replayStore == null || replayStore.isBlank() ? LOCAL_REPLAY_STORE : replayStore.strip();
            if (!LOCAL_REPLAY_STORE.equals(replayStore)) {
                String why = dev.certknock.server.replay.RedisReplayStore.check(replayStore);
                if (why != null) {
                    throw new InvalidValueException("knock.replayStore", "knock.replayStore: " + why);
                }
            }
            replayStoreTimeout = atLeast("knock.replayStoreTimeout", replayStoreTimeout, Duration.ofMillis(100),
                    Duration.ofMillis(5));
            if (replayStoreTimeout.compareTo(Duration.ofSeconds(5)) > 0) {
                throw new InvalidValueException("knock.replayStoreTimeout", "knock.replayStoreTimeout "
                        + replayStoreTimeout.toMillis() + " ms is over 5 s: every valid knock may wait this long for "
                        + "the replay store; use 5ms to 5s (100ms by default)");
            }
            replayStoreOutage = replayStoreOutage != null ? replayStoreOutage : ReplayStoreOutage.REFUSE;
        }

        /** Whether a gateway group's shared replay store is configured. */
        public boolean sharedReplayStore() {
            return !LOCAL_REPLAY_STORE.equals(replayStore);
        }

        /** {@link #replayStore()} without its password, for logs and status. */
        public String replayStoreForLogs() {
            return dev.certknock.server.replay.RedisReplayStore.redact(replayStore);
        }

        @Override
        public String toString() {
            return "Knock[timestampWindow=" + timestampWindow + ", replayJournal=" + replayJournal + ", replayStore="
                    + replayStoreForLogs() + ", replayStoreTimeout=" + replayStoreTimeout + ", replayStoreOutage="
                    + replayStoreOutage + ", ...]";
        }
    }

    /** What a knock gets while the gateway group's replay store does not answer (docs/DESIGN.md D36). */
    public enum ReplayStoreOutage {
        /** Refused, {@code REPLAY_STORE_UNAVAILABLE}: the default, fail closed. */
        @JsonProperty("refuse") REFUSE,
        /** Granted on the local replay state alone, with a WARN once per outage: a replay at another gateway works. */
        @JsonProperty("local-only") LOCAL_ONLY
    }

    /** How knocks are received: pcap (no socket, before netfilter) or a plain UDP socket. */
    public enum CaptureMode {
        @JsonProperty("udp-socket") UDP_SOCKET,
        @JsonProperty("pcap") PCAP
    }

    public record Capture(CaptureMode mode, @JsonProperty("interface") String iface, String address, Integer port) {
        static final Capture DEFAULT = new Capture(null, null, null, null);

        public Capture {
            mode = mode != null ? mode : CaptureMode.UDP_SOCKET;
            address = address != null ? address : "0.0.0.0";
            port = range("capture.port", port, 62201, 0, 65535); // 0: any free port (tests)
            if (mode == CaptureMode.PCAP && (iface == null || iface.isBlank())) {
                throw new InvalidValueException("capture.mode",
                        "capture.mode pcap needs capture.interface: the interface knocks arrive on, e.g. eth0 (or any)");
            }
            if (mode == CaptureMode.PCAP && port == 0) {
                throw new InvalidValueException("capture.port", "capture.port must be a real port with pcap capture");
            }
        }
    }

    /** Where grants go. */
    public enum FirewallBackend {
        @JsonProperty("log") LOG,
        @JsonProperty("nftables") NFTABLES,
        @JsonProperty("iptables") IPTABLES,
        @JsonProperty("command") COMMAND
    }

    /** The command backend: argv templates (never a shell string) and where open grants are remembered. */
    public record Command(@JsonProperty(required = true) List<String> open, @JsonProperty(required = true) List<String> close,
            Path stateFile, Duration timeout) {
        public Command {
            open = List.copyOf(open);
            close = List.copyOf(close);
            stateFile = stateFile != null ? stateFile : Path.of("/var/lib/certknock/command-grants.json");
            timeout = atLeast("firewall.command.timeout", timeout, Duration.ofSeconds(10), Duration.ofMillis(100));
        }
    }

    public enum OnStop {
        @JsonProperty("keep-until-expiry") KEEP_UNTIL_EXPIRY,
        @JsonProperty("flush") FLUSH
    }

    /**
     * @param reject      answer closed protected ports with a TCP reset / ICMP instead of dropping silently
     * @param cutOnRevoke when a CRL revokes a certificate, also delete the conntrack entries of the connections
     *                    its grants let in, so established sessions end too (kernel backends only)
     * @param maxElements most firewall elements (address, protocol, port or range) open at once, all
     *                    certificates together; a grant that would pass it is refused ({@code FIREWALL_ELEMENT_LIMIT})
     * @param maxElementsPerCertificate most elements one certificate holds at once; a grant that would pass it is
     *                    refused ({@code CERTIFICATE_ELEMENT_LIMIT}), so one user cannot fill the firewall for all
     */
    public record Firewall(FirewallBackend backend, String table, OnStop onStop, Boolean reject, Command command,
            Boolean cutOnRevoke, Integer maxElements, Integer maxElementsPerCertificate) {
        static final Firewall DEFAULT = new Firewall(null, null, null, null, null, null, null, null);

        public Firewall {
            backend = backend != null ? backend : FirewallBackend.LOG;
            table = table != null ? table : "certknock";
            if (!table.matches("[A-Za-z][A-Za-z0-9_]{0,31}")) {
                throw new InvalidValueException("firewall.table", "firewall.table '" + table + "' is not a valid nftables table name");
            }
            onStop = onStop != null ? onStop : OnStop.KEEP_UNTIL_EXPIRY;
            reject = reject != null && reject;
            cutOnRevoke = cutOnRevoke != null && cutOnRevoke;
            maxElements = range("firewall.maxElements", maxElements, 100_000, 1, 10_000_000);
            maxElementsPerCertificate = range("firewall.maxElementsPerCertificate", maxElementsPerCertificate, Math.min(256, maxElements), 1,
                    maxElements);
            if (cutOnRevoke && backend != FirewallBackend.NFTABLES && backend != FirewallBackend.IPTABLES) {
                throw new InvalidValueException("firewall.cutOnRevoke", "firewall.cutOnRevoke deletes this host's "
                        + "conntrack entries: it needs the nftables or iptables backend");
            }
            if (backend == FirewallBackend.COMMAND && command == null) {
                throw new InvalidValueException("firewall.backend",
                        "firewall backend command needs firewall.command with open and close templates");
            }
            if (command != null) {
                try {
                    dev.certknock.server.firewall.command.CommandTemplate.parse("firewall.command.open", command.open());
                    dev.certknock.server.firewall.command.CommandTemplate.parse("firewall.command.close", command.close());
                } catch (IllegalArgumentException e) {
                    throw new InvalidValueException("firewall.command", e.getMessage());
                }
            }
        }
    }

    public record Limits(Integer perSourcePerSecond, Integer perSourceBurst, Integer publicKeyOpsPerSecond,
            Integer queueCapacity, Integer workers, Integer trackedSources) {
        static final Limits DEFAULT = new Limits(null, null, null, null, null, null);

        public Limits {
            perSourcePerSecond = range("limits.perSourcePerSecond", perSourcePerSecond, 5, 1, 100_000);
            perSourceBurst = range("limits.perSourceBurst", perSourceBurst, 10, 1, 100_000);
            publicKeyOpsPerSecond = range("limits.publicKeyOpsPerSecond", publicKeyOpsPerSecond, 2000, 1, 1_000_000);
            queueCapacity = range("limits.queueCapacity", queueCapacity, 4096, 1, 1_000_000);
            workers = range("limits.workers", workers, Math.max(1, Runtime.getRuntime().availableProcessors()), 1, 256);
            trackedSources = range("limits.trackedSources", trackedSources, 65_536, 16, 10_000_000);
        }
    }

    public record Logging(Path audit, Duration statsInterval) {
        static final Logging DEFAULT = new Logging(null, null);

        public Logging {
            statsInterval = atLeast("logging.statsInterval", statsInterval, Duration.ofMinutes(5), Duration.ofSeconds(1));
        }
    }

    /**
     * The Prometheus endpoint ({@code GET /metrics}); absent = off.
     *
     * @param address            the IP address it listens on (a literal, never a host name), default 127.0.0.1
     * @param port               its TCP port (0: any free port, for tests)
     * @param allowNonLoopback   must be true for an address that is not a loopback one: the figures are not
     *                           secret but tell an observer when knocks succeed, and the endpoint has no
     *                           authentication of its own
     */
    public record Metrics(String address, Integer port, Boolean allowNonLoopback) {

        public Metrics {
            address = address != null ? address : "127.0.0.1";
            if (port == null) {
                throw new InvalidValueException("metrics", "metrics.port is required: the TCP port of the endpoint, e.g. "
                        + "9464 (or remove the metrics section to turn metrics off)");
            }
            port = range("metrics.port", port, 0, 0, 65535);
            allowNonLoopback = allowNonLoopback != null && allowNonLoopback;
            java.net.InetAddress a = literal("metrics.address", address);
            if (!a.isLoopbackAddress() && !allowNonLoopback) {
                throw new InvalidValueException("metrics.address", "metrics.address " + address + " is not a loopback "
                        + "address: the endpoint has no authentication and tells an observer when knocks succeed; "
                        + "keep it on 127.0.0.1 (scrape through a tunnel or a local agent), or set "
                        + "metrics.allowNonLoopback: true and firewall the port to the scraper");
            }
        }

        /** Whether the address is a loopback one. */
        public boolean loopback() {
            return literal("metrics.address", address).isLoopbackAddress();
        }
    }

    /**
     * The status socket ({@code knock-server status}): a Unix domain socket, mode 0600.
     *
     * @param socket its path; default {@code status.sock} in the replay journal's directory
     */
    public record Status(Path socket) {
        static final Status DEFAULT = new Status(null);
        /** Linux's sun_path holds 108 bytes, the terminating NUL among them. */
        static final int MAX_SOCKET_PATH_BYTES = 107;

        public Status {
            if (socket != null && socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                    > MAX_SOCKET_PATH_BYTES) {
                throw new InvalidValueException("status.socket", "status.socket " + socket + " is longer than "
                        + MAX_SOCKET_PATH_BYTES + " bytes, the most a Unix domain socket path may have");
            }
        }

        /** The socket's path: the configured one, or {@code status.sock} beside the replay journal. */
        public Path socketOr(Path replayJournal) {
            return socket != null ? socket : replayJournal.toAbsolutePath().resolveSibling("status.sock");
        }
    }

    /**
     * Help for the operator; off unless configured.
     *
     * @param keepRefused keep the last refused datagrams on disk for {@code knock-server verify}; null = off
     */
    public record Diagnostics(KeepRefused keepRefused) {
        static final Diagnostics DEFAULT = new Diagnostics(null);
    }

    /**
     * The last {@code count} refused datagrams, each a file (0600) as {@code knock --save-packet} writes it, with a
     * sidecar naming source, time and drop reason; bounded in count and total bytes, written at most
     * {@code perSecond} a second by one thread off the knock path.
     *
     * @param count     how many to keep (required), 1-1000
     * @param maxBytes  most bytes the kept files may take together, default 1 MiB, 64 KiB-256 MiB
     * @param perSecond most datagrams kept per second (the rest are counted), default 10, 1-100
     * @param directory where, default {@code refused} beside the replay journal (the state directory)
     */
    public record KeepRefused(Integer count, Integer maxBytes, Integer perSecond, Path directory) {
        public KeepRefused {
            if (count == null) {
                throw new InvalidValueException("diagnostics.keepRefused", "diagnostics.keepRefused.count is required: how "
                        + "many refused datagrams to keep, e.g. 50 (or remove keepRefused to keep none)");
            }
            count = range("diagnostics.keepRefused.count", count, 0, 1, 1000);
            maxBytes = range("diagnostics.keepRefused.maxBytes", maxBytes, 1024 * 1024, 64 * 1024, 256 * 1024 * 1024);
            perSecond = range("diagnostics.keepRefused.perSecond", perSecond, 10, 1, 100);
        }

        /** The directory: the configured one, or {@code refused} beside the replay journal. */
        public Path directoryOr(Path replayJournal) {
            return directory != null ? directory : replayJournal.toAbsolutePath().resolveSibling("refused");
        }
    }

    /** The socket's path for this configuration (see {@link Status#socketOr}). */
    public Path statusSocket() {
        return status.socketOr(knock.replayJournal());
    }

    /** An IPv4 or IPv6 literal; never a name lookup. */
    static java.net.InetAddress literal(String key, String text) {
        // four dotted decimals, or anything with a colon (which InetAddress never looks up as a name)
        if (!text.matches("\\d{1,3}(\\.\\d{1,3}){3}") && !(text.contains(":") && text.matches("[0-9a-fA-F:.]+"))) {
            throw new InvalidValueException(key, key + " '" + text + "' is not an IPv4 or IPv6 address literal");
        }
        try {
            return java.net.InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new InvalidValueException(key, key + " '" + text + "' is not an IPv4 or IPv6 address literal");
        }
    }

    static Duration atLeast(String key, Duration value, Duration dflt, Duration min) {
        Duration v = value != null ? value : dflt;
        if (v.compareTo(min) < 0) {
            throw new InvalidValueException(key, key + " must be at least " + min.toMillis() + " ms");
        }
        return v;
    }

    static int range(String key, Integer value, int dflt, int min, int max) {
        int v = value != null ? value : dflt;
        if (v < min || v > max) {
            throw new InvalidValueException(key, key + " is " + v + "; it must be between " + min + " and " + max);
        }
        return v;
    }
}
