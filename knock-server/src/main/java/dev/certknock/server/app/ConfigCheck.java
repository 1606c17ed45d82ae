package dev.certknock.server.app;

import dev.certknock.server.config.ConfigException;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CaKey;
import dev.certknock.server.crl.CrlFetcher;
import dev.certknock.server.crl.CrlInfo;
import dev.certknock.server.crl.CrlSettings;
import dev.certknock.server.crl.CrlSource;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.server.crl.CrlUpdate;
import dev.certknock.server.crl.FetchResult;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What {@code knock-server check-config} finds: every error and warning of a configuration and of what it points at,
 * each at its line, and with {@link #online} the outcome of fetching and verifying every CRL source once. Knows
 * nothing of the command line; the command prints the report.
 *
 * <p>Offline checks are cheap and certain: the configuration is read strictly (every problem at once), every
 * bundle, password and CA certificate is loaded, the state paths must be writable (or creatable), {@code file:}
 * CRL sources must exist and be readable, URL sources must name a host. Warnings: password files and bundles
 * (which hold the private keys) readable by group or others, and what the server would accept but should not.
 * Access is checked as the user that runs the check.
 */
public final class ConfigCheck {

    /** One CRL source fetched and verified ({@link #online}). */
    public sealed interface SourceOutcome {
        String source();

        /** Fetched, signed by a trusted CA, fresh. */
        record Good(String source, CrlInfo crl) implements SourceOutcome {
        }

        /** Not fetched, or refused; the reason is for the operator. */
        record Bad(String source, String reason) implements SourceOutcome {
        }
    }

    /**
     * @param material the configuration and what it points at, when all of it loaded (null when not)
     * @param errors   problems that stop the server or make it refuse knocks, sorted by line
     * @param warnings what works but should change, sorted by line
     * @param sources  the CRL sources fetched, in configuration order (empty when not {@link #online})
     */
    public record Report(ServerMaterial material, List<ConfigException.Problem> errors,
            List<ConfigException.Problem> warnings, List<SourceOutcome> sources) {
        public Report {
            errors = sorted(errors);
            warnings = sorted(warnings);
            sources = List.copyOf(sources);
        }

        public boolean ok() {
            return errors.isEmpty();
        }

        private static List<ConfigException.Problem> sorted(List<ConfigException.Problem> problems) {
            List<ConfigException.Problem> out = new ArrayList<>(problems);
            out.sort((a, b) -> a.line() != b.line() ? Integer.compare(a.line() > 0 ? a.line() : Integer.MAX_VALUE,
                    b.line() > 0 ? b.line() : Integer.MAX_VALUE) : Integer.compare(a.column(), b.column()));
            return List.copyOf(out);
        }
    }

    /** Group and others: none of these on a password file or a bundle. */
    private static final Set<PosixFilePermission> NOT_OWNER = Set.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private ConfigCheck() {
    }

    /** The offline checks. */
    public static Report offline(Path configFile, Map<String, String> env) {
        List<ConfigException.Problem> errors = new ArrayList<>();
        List<ConfigException.Problem> warnings = new ArrayList<>();
        ServerConfig config;
        try {
            config = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            return new Report(null, e.problems(), List.of(), List.of());
        }
        ServerMaterial material = null;
        try {
            material = ServerMaterial.load(configFile, env);
        } catch (ConfigException e) {
            errors.addAll(e.problems());
        }
        crlSources(configFile, config, errors);
        secretFiles(configFile, config, warnings);
        return new Report(material, errors, warnings, List.of());
    }

    /**
     * The offline checks, then every CRL source fetched once (side by side, each within the configured connect and
     * response timeouts) and offered to a store of the configured CAs: the signature must verify with a trusted
     * CA's key, and the CRL must be fresh (nextUpdate plus {@code crl.staleGrace} not passed). A failed source is an
     * error; a configured CA that no source gave a CRL for is a warning (the server's cache may hold one).
     */
    public static Report online(Path configFile, Map<String, String> env, Clock clock) {
        Report offline = offline(configFile, env);
        if (offline.material() == null) {
            return offline; // without the CA certificates nothing can be verified
        }
        ServerMaterial material = offline.material();
        ServerConfig.Crl c = material.config().crl();
        List<ConfigException.Problem> errors = new ArrayList<>(offline.errors());
        List<ConfigException.Problem> warnings = new ArrayList<>(offline.warnings());
        List<SourceOutcome> outcomes = new ArrayList<>();
        Set<CaKey> covered = new LinkedHashSet<>();
        Path base = configFile.toAbsolutePath().getParent();
        CrlSettings settings = CrlSettings.defaults(List.of(), c.cacheDir()).withTimeouts(c.connectTimeout(),
                c.responseTimeout()).withMaxBytes(c.maxBytes());
        List<ServerConfig.CrlSource> sources = c.sources();
        try (CrlFetcher fetcher = new CrlFetcher(settings)) {
            ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(8, sources.size())), r -> {
                Thread t = new Thread(r, "check-config-crl");
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<SourceOutcome>> futures = new ArrayList<>();
                for (ServerConfig.CrlSource s : sources) {
                    URI uri = CrlService.resolve(s.url(), base);
                    futures.add(pool.submit(() -> fetchAndVerify(fetcher, uri, material, c.staleGrace(), clock)));
                }
                // each fetch ends by its own deadline; this one only guards against a fetcher that would not
                long limitNanos = fetcher.deadline().plusSeconds(5).toNanos();
                long end = System.nanoTime() + limitNanos;
                for (int i = 0; i < futures.size(); i++) {
                    String source = sources.get(i).url().toString();
                    SourceOutcome outcome;
                    try {
                        outcome = futures.get(i).get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException e) {
                        futures.get(i).cancel(true);
                        outcome = new SourceOutcome.Bad(source, "no result within " + fetcher.deadline().toMillis() + " ms");
                    } catch (ExecutionException e) {
                        outcome = new SourceOutcome.Bad(source, String.valueOf(e.getCause()));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        outcome = new SourceOutcome.Bad(source, "interrupted");
                    }
                    outcome = relabel(outcome, source);
                    outcomes.add(outcome);
                    String pointer = "/crl/sources/" + i + "/url";
                    if (outcome instanceof SourceOutcome.Bad bad) {
                        errors.add(problem(configFile, pointer, "CRL source " + source + " failed: " + bad.reason()
                                + "; until a CRL of its CA is held, knocks with certificates it issued are refused (fail closed)"));
                    } else {
                        covered.add(((SourceOutcome.Good) outcome).crl().caKey());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        Set<CaKey> configured = new LinkedHashSet<>();
        for (X509Certificate ca : material.trust().caCertificates()) {
            configured.add(CaKey.of(ca));
        }
        configured.removeAll(covered);
        for (CaKey missing : configured) {
            warnings.add(problem(configFile, "/crl/sources", "no CRL source gave a CRL of the CA " + missing
                    + ": certificates it issued are refused (fail closed) unless the server's cache holds a fresh CRL "
                    + "of it; list its CRL under crl.sources"));
        }
        return new Report(material, errors, warnings, outcomes);
    }

    private static SourceOutcome relabel(SourceOutcome outcome, String source) {
        if (outcome instanceof SourceOutcome.Good good) {
            return new SourceOutcome.Good(source, good.crl());
        }
        return new SourceOutcome.Bad(source, ((SourceOutcome.Bad) outcome).reason());
    }

    private static SourceOutcome fetchAndVerify(CrlFetcher fetcher, URI uri, ServerMaterial material,
            Duration staleGrace, Clock clock) {
        String source = uri.toString();
        FetchResult fetched = fetcher.fetch(new CrlSource(uri));
        if (fetched instanceof FetchResult.Failed failed) {
            return new SourceOutcome.Bad(source, failed.reason());
        }
        if (!(fetched instanceof FetchResult.Fetched body)) {
            return new SourceOutcome.Bad(source, "HTTP 304 Not Modified to an unconditional request");
        }
        CrlStore store = CrlStore.silent(material.trust().caCertificates(), clock, staleGrace);
        CrlUpdate update = store.offer(body.body(), source);
        if (update instanceof CrlUpdate.Rejected rejected) {
            return new SourceOutcome.Bad(source, "refused (" + rejected.reason() + "): " + rejected.message());
        }
        if (!(update instanceof CrlUpdate.Accepted accepted)) {
            return new SourceOutcome.Bad(source, "not taken: " + update);
        }
        CrlInfo info = store.info(accepted.caKey()).orElseThrow();
        Instant now = clock.instant();
        if (info.isStaleAt(now)) {
            return new SourceOutcome.Bad(source, "stale: its nextUpdate " + info.nextUpdate()
                    + (staleGrace.isZero() ? "" : " plus crl.staleGrace " + staleGrace.toSeconds() + " s")
                    + " has passed (now " + now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "): the CA " + info.issuer().getName()
                    + " must publish a new CRL there");
        }
        return new SourceOutcome.Good(source, info);
    }

    /** file: sources must exist and be readable; URL sources must name a host. */
    private static void crlSources(Path configFile, ServerConfig config, List<ConfigException.Problem> errors) {
        Path base = configFile.toAbsolutePath().getParent();
        List<ServerConfig.CrlSource> sources = config.crl().sources();
        for (int i = 0; i < sources.size(); i++) {
            String pointer = "/crl/sources/" + i + "/url";
            URI uri = CrlService.resolve(sources.get(i).url(), base);
            CrlSource source;
            try {
                source = new CrlSource(uri);
            } catch (IllegalArgumentException e) {
                errors.add(problem(configFile, pointer, e.getMessage() + ": write a full URL such as "
                        + "http://ca.example.org/ca.crl, or file:/path/to/ca.crl"));
                continue;
            }
            if (!source.isFile()) {
                continue;
            }
            Path file = source.path();
            String fix = "; until it is there, knocks with certificates of its CA are refused (fail closed)";
            if (!Files.exists(file)) {
                errors.add(problem(configFile, pointer, "the CRL file " + file + " does not exist: publish the CA's CRL "
                        + "there (knock-ca crl) or fix the path" + fix));
            } else if (!Files.isRegularFile(file)) {
                errors.add(problem(configFile, pointer, "the CRL source " + file + " is not a regular file: point it at "
                        + "the CRL file" + fix));
            } else if (!Files.isReadable(file)) {
                errors.add(problem(configFile, pointer, "the CRL file " + file + " is not readable by this user: give the "
                        + "server's user read access (e.g. chmod 644 " + file + ")" + fix));
            }
        }
    }

    /** Password files and bundles (they hold the private keys) must be readable by their owner alone. */
    private static void secretFiles(Path configFile, ServerConfig config, List<ConfigException.Problem> warnings) {
        List<ServerConfig.Identity> ids = config.server().identities();
        for (int i = 0; i < ids.size(); i++) {
            ServerConfig.Identity id = ids.get(i);
            String pointer = "/server/identities/" + i;
            if (id.passwordFile() != null) {
                secret(configFile, pointer + "/passwordFile", id.passwordFile(), "password file", warnings);
            }
            secret(configFile, pointer + "/bundle", id.bundle(), "bundle (it holds the private knock key)", warnings);
        }
    }

    private static void secret(Path configFile, String pointer, Path file, String what,
            List<ConfigException.Problem> warnings) {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view == null) {
            return; // no POSIX permissions on this file system: nothing to say
        }
        Set<PosixFilePermission> perms;
        try {
            perms = view.readAttributes().permissions();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return; // a missing or unreadable file is an error reported by the loader
        }
        Set<PosixFilePermission> extra = new LinkedHashSet<>(perms);
        extra.retainAll(NOT_OWNER);
        if (extra.isEmpty()) {
            return;
        }
        boolean readable = perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ);
        warnings.add(problem(configFile, pointer, "the " + what + " " + file + " is "
                + (readable ? "readable" : "accessible") + " by "
                + (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.OTHERS_WRITE)
                        || perms.contains(PosixFilePermission.OTHERS_EXECUTE) ? "other users" : "its group")
                + " (mode " + PosixFilePermissions.toString(perms) + "): run chmod go-rwx " + file
                + " (and keep it owned by the server's user)"));
    }

    /** Whether this process runs as root (uid 0); false where that cannot be known. */
    public static boolean runningAsRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            return false;
        }
    }

    private static ConfigException.Problem problem(Path configFile, String pointer, String message) {
        return ConfigLoader.at(configFile, pointer, message, null).problems().get(0);
    }
}
