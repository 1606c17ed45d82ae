package dev.certknock.client.knock;

import java.net.InetAddress;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The addresses servers reported seeing knocks from (their {@code observedSource}), so that the next knock
 * from the same place declares the right address at once, behind NAT. Keyed by the server (host as given and
 * knock port) and the local address of the route to it: another network means another local address, so a
 * stale entry is not used there. An entry is only a hint: a wrong one costs one more knock, since the server
 * reports the address it really sees. Implementations must be thread-safe.
 */
public interface ObservedAddressCache {

    /**
     * Where an observed address applies.
     *
     * @param host the target's host as given (lower-cased, without brackets)
     * @param knockPort the server's knock port
     * @param routeAddress the local address of the route to the server
     */
    record Key(String host, int knockPort, InetAddress routeAddress) {
        /**
         * Normalizes the host (brackets off, lower case) and checks the port.
         *
         * @param host the target's host
         * @param knockPort the server's knock port, 1 to 65535
         * @param routeAddress the local address of the route to the server
         */
        public Key {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(routeAddress, "routeAddress");
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            host = host.toLowerCase(Locale.ROOT);
            if (knockPort < 1 || knockPort > 65535) {
                throw new IllegalArgumentException("knock port " + knockPort + " is outside 1-65535");
            }
        }
    }

    /** A cache that remembers nothing. */
    ObservedAddressCache NONE = new ObservedAddressCache() {
        @Override
        public Optional<InetAddress> find(Key key) {
            return Optional.empty();
        }

        @Override
        public void remember(Key key, InetAddress observed) {
        }

        @Override
        public void forget(Key key) {
        }
    };

    /**
     * The address last observed for this key.
     *
     * @param key server and route
     * @return the address, or empty when none is remembered
     */
    Optional<InetAddress> find(Key key);

    /**
     * Remembers the address a server observed (replacing any earlier one for the key).
     *
     * @param key server and route
     * @param observed the knock's source address as the server saw it
     */
    void remember(Key key, InetAddress observed);

    /**
     * Forgets the key (the route reaches the server without NAT now).
     *
     * @param key server and route
     */
    void forget(Key key);

    /**
     * A thread-safe in-memory cache, dropping the least recently used entry when full.
     *
     * @param maxEntries at most this many entries, at least 1
     * @return the cache
     */
    static ObservedAddressCache inMemory(int maxEntries) {
        return new InMemoryObservedAddressCache(maxEntries);
    }
}
