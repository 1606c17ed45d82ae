package dev.certknock.client.knock;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** {@link ObservedAddressCache#inMemory}: bounded, least recently used out first. */
final class InMemoryObservedAddressCache implements ObservedAddressCache {

    /** The bound of a client's default cache. */
    static final int DEFAULT_MAX_ENTRIES = 64;

    private final Map<Key, InetAddress> entries;

    InMemoryObservedAddressCache(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("a cache holds at least one entry, not " + maxEntries);
        }
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, InetAddress> eldest) {
                return size() > maxEntries;
            }
        };
    }

    @Override
    public synchronized Optional<InetAddress> find(Key key) {
        return Optional.ofNullable(entries.get(Objects.requireNonNull(key, "key")));
    }

    @Override
    public synchronized void remember(Key key, InetAddress observed) {
        entries.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(observed, "observed"));
    }

    @Override
    public synchronized void forget(Key key) {
        entries.remove(Objects.requireNonNull(key, "key"));
    }

    synchronized int size() {
        return entries.size();
    }
}
