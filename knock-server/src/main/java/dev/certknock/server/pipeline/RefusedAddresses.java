package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The (knock, source address) pairs that {@link Authorization} refused because the knock does not sign that
 * source. Such a knock is not recorded as used (its sender's own copy must still open), so without this memory a
 * captured copy re-sent again and again from one address would be validated in full each time (chain, revocation,
 * signature). {@link ReplayLookup} drops a repeat as {@link DropReason#REPLAY} before any of that. In memory only,
 * the most recent {@value #CAPACITY} pairs (a copy is usable only inside the timestamp window anyway); nothing here
 * can be filled by unauthenticated packets, since only a fully validated knock is ever recorded. Thread-safe.
 */
public final class RefusedAddresses {

    static final int CAPACITY = 65_536;

    private final Map<ByteBuffer, Boolean> refused = new LinkedHashMap<>(1024, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Boolean> eldest) {
            return size() > CAPACITY;
        }
    };

    void record(byte[] leafFingerprint, byte[] nonce, InetSocketAddress source) {
        ByteBuffer k = key(leafFingerprint, nonce, source);
        synchronized (refused) {
            refused.put(k, Boolean.TRUE);
        }
    }

    boolean contains(byte[] leafFingerprint, byte[] nonce, InetSocketAddress source) {
        ByteBuffer k = key(leafFingerprint, nonce, source);
        synchronized (refused) {
            return refused.containsKey(k);
        }
    }

    int size() {
        synchronized (refused) {
            return refused.size();
        }
    }

    private static ByteBuffer key(byte[] leaf, byte[] nonce, InetSocketAddress source) {
        byte[] address = source.getAddress().getAddress();
        ByteBuffer b = ByteBuffer.allocate(leaf.length + nonce.length + address.length);
        b.put(leaf).put(nonce).put(address).flip();
        return b;
    }
}
