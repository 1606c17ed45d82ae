package dev.certknock.server.reply;

import dev.certknock.protocol.knock.ReplySealer;
import dev.certknock.server.event.LogText;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Replier;
import dev.certknock.server.ratelimit.TokenBucket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers authenticated v2 knocks (docs/PROTOCOL.md, "Replies"): seals the reply the pipeline chose under the
 * knock's own reply key and sends it to the knock's source address and port, from the knock port. Bounded three
 * ways, since a captured knock can be re-sent by anyone from any (spoofed) address while it is fresh:
 * <ul>
 *   <li>one reply per (knock, source address): a second copy from the same address gets nothing, so re-sending a
 *       captured knock cannot make the server repeat itself at a chosen victim; a copy from another address does
 *       get its own (sealed, useless to anyone but the knock's sender) reply, so a racer cannot keep the real sender
 *       from learning its address. At most {@value #REMEMBERED} pairs are remembered (oldest forgotten first);</li>
 *   <li>a server-wide rate ({@code knock.repliesPerSecond});</li>
 *   <li>a reply is at most 61 bytes, always smaller than the knock that caused it: no amplification.</li>
 * </ul>
 * Send failures are counted and logged at DEBUG only: a source address is attacker-chosen. Thread-safe.
 */
public final class KnockReplies implements Replier {

    private static final Logger LOG = LoggerFactory.getLogger(KnockReplies.class);

    static final int REMEMBERED = 16_384;

    /** Where a reply datagram goes out: the knock port's socket. */
    @FunctionalInterface
    public interface Transport {
        void send(InetSocketAddress to, byte[] datagram) throws IOException;
    }

    private final ReplySealer sealer;
    private final Transport transport;
    private final TokenBucket rate;
    private final Map<ByteBuffer, Boolean> answered = new LinkedHashMap<>(1024, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    };
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong repeated = new AtomicLong();
    private final AtomicLong rateLimited = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    public KnockReplies(ReplySealer sealer, Transport transport, TokenBucket rate) {
        this.sealer = sealer;
        this.transport = transport;
        this.rate = rate;
    }

    @Override
    public void reply(KnockView ctx) {
        InetSocketAddress to = ctx.source();
        ByteBuffer key = key(ctx);
        synchronized (answered) {
            if (answered.putIfAbsent(key, Boolean.TRUE) != null) {
                repeated.incrementAndGet();
                return;
            }
        }
        if (!rate.tryAcquire()) {
            rateLimited.incrementAndGet();
            return;
        }
        Optional<byte[]> datagram = sealer.seal(ctx.verified(), ctx.reply());
        if (datagram.isEmpty()) {
            return; // a v1 knock: never answered
        }
        try {
            transport.send(to, datagram.get());
            sent.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            failed.incrementAndGet();
            LOG.debug("reply to {} not sent: {}", to.getAddress().getHostAddress(), LogText.of(e.toString()));
        }
    }

    private static ByteBuffer key(KnockView ctx) {
        byte[] leaf = ctx.leafFingerprint();
        byte[] nonce = ctx.verified().content().nonce().toByteArray();
        byte[] address = ctx.source().getAddress().getAddress();
        ByteBuffer b = ByteBuffer.allocate(leaf.length + nonce.length + address.length);
        b.put(leaf).put(nonce).put(address).flip();
        return b;
    }

    /** Replies sent, not repeated to the same address, over the rate, and failed: for the statistics line. */
    public Map<String, Long> figures() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("sent", sent.get());
        m.put("repeated", repeated.get());
        m.put("rateLimited", rateLimited.get());
        m.put("failed", failed.get());
        return m;
    }
}
