package dev.certknock.server.app;

import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CrlRefresher;
import dev.certknock.server.crl.CrlSettings;
import dev.certknock.server.crl.CrlSource;
import dev.certknock.server.crl.CrlStore;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** The server's CRLs from its configuration: the store the pipeline reads, kept current by the refresher. */
public final class CrlService implements AutoCloseable {

    private final CrlStore store;
    private final CrlRefresher refresher;

    private CrlService(CrlStore store, CrlRefresher refresher) {
        this.store = store;
        this.refresher = refresher;
    }

    public static CrlService create(ServerMaterial material, Clock clock) {
        ServerConfig.Crl c = material.config().crl();
        Path base = material.configFile().toAbsolutePath().getParent();
        List<CrlSource> sources = new ArrayList<>();
        for (ServerConfig.CrlSource s : c.sources()) {
            sources.add(new CrlSource(resolve(s.url(), base)));
        }
        CrlStore store = new CrlStore(material.trust().caCertificates(), clock, c.staleGrace());
        CrlSettings settings = CrlSettings.defaults(sources, c.cacheDir())
                .withRefreshInterval(c.refreshInterval())
                .withStaleGrace(c.staleGrace())
                .withTimeouts(c.connectTimeout(), c.responseTimeout())
                .withMaxBytes(c.maxBytes());
        return new CrlService(store, new CrlRefresher(settings, store, clock));
    }

    /** {@code file:relative/path} is relative to the configuration file's directory, like every other path. */
    static URI resolve(URI uri, Path base) {
        if ("file".equals(uri.getScheme()) && uri.isOpaque() && base != null) {
            return base.resolve(uri.getSchemeSpecificPart()).normalize().toUri();
        }
        return uri;
    }

    public CrlStore store() {
        return store;
    }

    /**
     * Start-up without waiting on the network: the cache now (local disk), then every source at once in the
     * background, then on schedule. Until a CRL is held for an issuer its certificates are refused with
     * REVOCATION_UNAVAILABLE; a verified cached CRL is in force from the first knock.
     */
    public void start() {
        refresher.loadCache();
        refresher.start();
        refresher.refreshSoon();
    }

    /**
     * Loads the cache into the store now (local disk, no network; once): a reload does this off to the side, so
     * that the cached CRLs are in force from the moment the new store is swapped in, then calls {@link #start}.
     */
    public void loadCache() {
        refresher.loadCache();
    }

    /**
     * Cache, then every source, once (for offline verification). Bounded: sources are fetched side by side,
     * each within the fetch deadline.
     */
    public void loadOnce() {
        refresher.refreshNow();
    }

    public void refreshNow() {
        refresher.refreshNow();
    }

    @Override
    public void close() {
        refresher.close();
    }
}
