package dev.certknock.server.capture.pcap;

import dev.certknock.server.capture.PacketSource;
import dev.certknock.server.knock.ReceivedDatagram;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.pcap4j.core.BpfProgram;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.PcapNetworkInterface;
import org.pcap4j.core.PcapStat;
import org.pcap4j.core.Pcaps;
import org.pcap4j.core.RawPacketListener;
import org.pcap4j.packet.namednumber.DataLinkType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures knock datagrams with libpcap (pcap4j): no socket is bound to the knock port, so with the port
 * dropped by the firewall the host never answers. Frames are parsed by {@link FrameParser}; anything else is
 * counted by {@link SkipReason} and never stops the capture.
 *
 * <p>The BPF filter is {@code udp dst port N} with the knock's version and suite bytes and its length range
 * checked in the kernel ({@link KnockShapeFilter}), so random junk never reaches user space (and the
 * optional extra filter). It matches IPv4 and IPv6, but
 * for IPv6 only when UDP directly follows the fixed header: libpcap's {@code udp} does not walk extension
 * headers, so an IPv6 knock behind hop-by-hop or destination options never reaches us (the parser could
 * read it; the filter does not let it through). IPv4 fragments other than the first do not match either;
 * the parser refuses the first.
 *
 * <p>Direction: the handle's direction is set to IN ({@code pcap_setdirection}), which libpcap applies in user
 * space from the packet-type metadata. On {@code lo} the kernel hands every packet to the capture twice (going
 * out and coming in); only the incoming copy reaches us (libpcap 1.10 drops the outgoing loopback copy by
 * itself, direction IN does it for any interface), so each datagram is delivered once, while the kernel's
 * received figure ({@code ps_recv}) still counts both. The BPF {@code inbound} qualifier is not used:
 * measured on Linux 6.18 with libpcap 1.10.3, {@code inbound and udp dst port N} on {@code lo} let the kernel
 * accept the packets and then delivered none. On Linux cooked frames the parser also skips frames marked
 * outgoing.
 *
 * <p>{@link #start} fails (IOException) only for what retrying cannot fix: libpcap missing, no permission
 * to capture (CAP_NET_RAW), an extra filter that does not compile or an unsupported link type. Any other
 * failure, at start or later (interface down, deleted, not there yet), is logged at WARN and the capture is
 * reopened with exponential backoff from {@link Settings#initialBackoff} doubling to
 * {@link Settings#maxBackoff}; the backoff starts over once a handle has lasted as long as the last wait.
 */
public final class PcapCapture implements PacketSource {

    private static final Logger LOG = LoggerFactory.getLogger(PcapCapture.class);
    private static final int PCAP_ERROR_PERM_DENIED = -8;

    /**
     * Capture settings.
     *
     * @param interfaceName  device to open ({@code eth0}, {@code lo}, {@code any} for all: Linux cooked frames)
     * @param knockPort      UDP port knocks are sent to
     * @param snaplen        bytes captured per frame; a knock is one datagram below the MTU
     * @param bufferBytes    kernel capture buffer, at least {@link #MIN_BUFFER_BYTES} (2 MB dropped packets)
     * @param immediateMode  deliver each packet at once instead of batching
     * @param timeoutMillis  read timeout of the handle
     * @param extraFilter    a BPF expression and-ed with the knock port filter
     * @param initialBackoff first wait before reopening after a failure
     * @param maxBackoff     longest wait between reopen attempts
     */
    public record Settings(String interfaceName, int knockPort, int snaplen, int bufferBytes, boolean immediateMode,
            int timeoutMillis, Optional<String> extraFilter, Duration initialBackoff, Duration maxBackoff) {

        public static final int MIN_BUFFER_BYTES = 32 * 1024 * 1024;
        public static final int DEFAULT_SNAPLEN = 1600;

        public Settings {
            Objects.requireNonNull(interfaceName, "interfaceName");
            Objects.requireNonNull(extraFilter, "extraFilter");
            Objects.requireNonNull(initialBackoff, "initialBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            if (interfaceName.isBlank()) {
                throw new IllegalArgumentException("interface name is empty");
            }
            if (knockPort < 1 || knockPort > 65535) {
                throw new IllegalArgumentException("knock port out of range: " + knockPort);
            }
            if (snaplen < 128 || snaplen > 65535) {
                throw new IllegalArgumentException("snaplen must be 128-65535: " + snaplen);
            }
            if (bufferBytes < MIN_BUFFER_BYTES) {
                throw new IllegalArgumentException("capture buffer must be at least 32 MB: " + bufferBytes);
            }
            if (timeoutMillis < 1 || timeoutMillis > 1000) {
                throw new IllegalArgumentException("timeout must be 1-1000 ms: " + timeoutMillis);
            }
            if (extraFilter.isPresent() && extraFilter.get().isBlank()) {
                extraFilter = Optional.empty();
            }
            if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("backoff must be positive and initial <= max");
            }
        }

        /** The defaults: snaplen 1600, 32 MB buffer, immediate mode, 10 ms timeout, backoff 0.5 s to 30 s. */
        public static Settings of(String interfaceName, int knockPort) {
            return new Settings(interfaceName, knockPort, DEFAULT_SNAPLEN, MIN_BUFFER_BYTES, true, 10, Optional.empty(),
                    Duration.ofMillis(500), Duration.ofSeconds(30));
        }

        public Settings withExtraFilter(String filter) {
            return new Settings(interfaceName, knockPort, snaplen, bufferBytes, immediateMode, timeoutMillis,
                    Optional.ofNullable(filter), initialBackoff, maxBackoff);
        }

        public Settings withBackoff(Duration initial, Duration max) {
            return new Settings(interfaceName, knockPort, snaplen, bufferBytes, immediateMode, timeoutMillis,
                    extraFilter, initial, max);
        }

        /**
         * The BPF expression: UDP to the knock port shaped like a knock ({@link KnockShapeFilter}: version
         * and suite bytes, length range), and-ed with the extra filter if any.
         */
        public String filter() {
            String base = KnockShapeFilter.expression(knockPort);
            return extraFilter.map(x -> "(" + base + ") and (" + x + ")").orElse(base);
        }
    }

    /** An open handle and the parser for its link type. */
    private record Opened(PcapHandle handle, FrameParser parser) {
    }

    private final Settings settings;
    private final Clock clock;
    private final Object lock = new Object();
    private final LongAdder frames = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final AtomicLongArray skipped = new AtomicLongArray(SkipReason.values().length);
    // Guarded by lock.
    private Opened current;
    private boolean closed;
    private boolean started;
    private long reopens;
    private long pastReceived;
    private long pastDropped;
    private long pastIfDropped;
    private volatile Thread thread;
    private volatile long lastTurn = System.nanoTime();

    public PcapCapture(Settings settings, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void start(Predicate<ReceivedDatagram> sink) throws IOException {
        Objects.requireNonNull(sink, "sink");
        synchronized (lock) {
            if (started || closed) {
                throw new IllegalStateException("capture already started or closed");
            }
            started = true;
        }
        String version;
        try {
            version = Pcaps.libVersion();
            checkFilterCompiles();
        } catch (LinkageError e) {
            throw new IOException("libpcap cannot be loaded (" + e.getMessage() + "): install libpcap or use the UDP socket capture", e);
        }
        Opened first = null;
        try {
            first = open();
        } catch (PcapNativeException e) {
            if (permissionDenied(e)) {
                throw new IOException("no permission to capture on " + settings.interfaceName()
                        + " (needs root or CAP_NET_RAW): " + e.getMessage(), e);
            }
            LOG.warn("cannot capture on {} yet: {}; retrying in the background", settings.interfaceName(), e.getMessage());
        } catch (UnsupportedLinkTypeException e) {
            throw new IOException(e.getMessage(), e);
        }
        Opened initial = first;
        synchronized (lock) {
            current = first; // capturing from now on, not only once the thread runs
        }
        lastTurn = System.nanoTime();
        thread = new Thread(() -> run(sink, initial), "knock-capture-pcap");
        thread.setDaemon(true);
        thread.start();
        LOG.info("capturing knocks with {} on {}, filter '{}'", version, settings.interfaceName(), settings.filter());
    }

    private void checkFilterCompiles() throws IOException {
        try {
            BpfProgram p = Pcaps.compileFilter(settings.snaplen(), DataLinkType.EN10MB, settings.filter(),
                    BpfProgram.BpfCompileMode.OPTIMIZE, PcapHandle.PCAP_NETMASK_UNKNOWN);
            p.free();
        } catch (PcapNativeException e) {
            throw new IOException("capture filter '" + settings.filter() + "' does not compile: " + e.getMessage(), e);
        }
    }

    private static boolean permissionDenied(PcapNativeException e) {
        if (Integer.valueOf(PCAP_ERROR_PERM_DENIED).equals(e.getReturnCode())) {
            return true;
        }
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return m.contains("permission") || m.contains("not permitted");
    }

    private Opened open() throws PcapNativeException, UnsupportedLinkTypeException {
        PcapHandle handle = new PcapHandle.Builder(settings.interfaceName())
                .snaplen(settings.snaplen())
                .promiscuousMode(PcapNetworkInterface.PromiscuousMode.NONPROMISCUOUS)
                .timeoutMillis(settings.timeoutMillis())
                .bufferSize(settings.bufferBytes())
                .immediateMode(settings.immediateMode())
                .build();
        boolean ok = false;
        try {
            int dlt = handle.getDlt().value();
            LinkType linkType = LinkType.fromDlt(dlt).orElseThrow(() -> new UnsupportedLinkTypeException(
                    "interface " + settings.interfaceName() + " has an unsupported link type " + dlt));
            try {
                handle.setDirection(PcapHandle.PcapDirection.IN);
            } catch (PcapNativeException e) {
                LOG.info("capture direction cannot be set on {}: {}", settings.interfaceName(), e.getMessage());
            }
            String filter = settings.filter();
            handle.setFilter(filter, BpfProgram.BpfCompileMode.OPTIMIZE);
            ok = true;
            return new Opened(handle, new FrameParser(linkType, settings.knockPort()));
        } catch (NotOpenException e) {
            throw new PcapNativeException("handle closed while being set up", e);
        } finally {
            if (!ok) {
                handle.close();
            }
        }
    }

    private void run(Predicate<ReceivedDatagram> sink, Opened first) {
        long delay = settings.initialBackoff().toMillis();
        long max = settings.maxBackoff().toMillis();
        Opened next = first;
        while (true) {
            lastTurn = System.nanoTime();
            if (next == null) {
                try {
                    next = open();
                    LOG.warn("capture on {} reopened", settings.interfaceName());
                } catch (PcapNativeException | UnsupportedLinkTypeException | RuntimeException e) {
                    LOG.warn("cannot capture on {}: {}; retrying in {} ms", settings.interfaceName(), e.getMessage(), delay);
                    if (!pause(delay)) {
                        return;
                    }
                    delay = Math.min(delay * 2, max);
                    continue;
                }
            }
            Opened h = next;
            next = null;
            synchronized (lock) {
                if (closed) {
                    h.handle().close();
                    return;
                }
                current = h;
            }
            long openedAt = System.nanoTime();
            String failure = null;
            try {
                RawPacketListener listener = frame -> onFrame(h.parser(), frame, sink);
                h.handle().loop(-1, listener);
                failure = "loop ended";
            } catch (InterruptedException e) {
                failure = "loop broken";
            } catch (PcapNativeException | NotOpenException | RuntimeException e) {
                failure = e.getMessage();
            } finally {
                retire(h);
            }
            synchronized (lock) {
                if (closed) {
                    return;
                }
                reopens++;
            }
            if ((System.nanoTime() - openedAt) / 1_000_000 >= delay) {
                delay = settings.initialBackoff().toMillis();
            }
            LOG.warn("capture on {} failed: {}; reopening in {} ms", settings.interfaceName(), failure, delay);
            if (!pause(delay)) {
                return;
            }
            delay = Math.min(delay * 2, max);
        }
    }

    /** Waits (a second at a time, each a turn for the liveness check), or returns false at once when closed. */
    private boolean pause(long millis) {
        long until = System.nanoTime() + millis * 1_000_000;
        synchronized (lock) {
            while (!closed) {
                long left = (until - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return true;
                }
                lastTurn = System.nanoTime();
                try {
                    lock.wait(Math.min(left, 1000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return false;
        }
    }

    /** Carries the handle's kernel figures over and closes it. */
    private void retire(Opened h) {
        synchronized (lock) {
            PcapStat s = statsOf(h);
            if (s != null) {
                pastReceived += s.getNumPacketsReceived();
                pastDropped += s.getNumPacketsDropped();
                pastIfDropped += s.getNumPacketsDroppedByIf();
            }
            current = null;
            h.handle().close();
        }
    }

    private static PcapStat statsOf(Opened h) {
        try {
            return h.handle().getStats();
        } catch (PcapNativeException | NotOpenException | RuntimeException e) {
            return null;
        }
    }

    private void onFrame(FrameParser parser, byte[] frame, Predicate<ReceivedDatagram> sink) {
        lastTurn = System.nanoTime();
        frames.increment();
        ParseResult r = parser.parse(frame);
        if (r instanceof ParseResult.Skipped s) {
            skipped.incrementAndGet(s.reason().ordinal());
            return;
        }
        ParseResult.Datagram d = (ParseResult.Datagram) r;
        delivered.increment();
        try {
            ReceivedDatagram datagram = new ReceivedDatagram(frame, d.payloadOffset(), d.payloadLength(),
                    new InetSocketAddress(d.src(), d.srcPort()), clock.instant());
            if (!sink.test(datagram)) {
                refused.increment();
            }
        } catch (RuntimeException e) {
            refused.increment();
            LOG.debug("knock sink failed: {}", e.toString());
        }
    }

    /**
     * When the thread last handled a frame, tried to open the device, or waited out a second of its reopen backoff;
     * or now, when it is waiting inside libpcap for a frame (alive, runnable, its top frame a native method of
     * pcap4j's JNA mappings):
     * measured with libpcap 1.10.3 in immediate mode on Linux, {@code pcap_dispatch} does not return on the
     * handle's read timeout without traffic (and {@code pcap_loop} reads again inside libpcap anyway), so an idle
     * capture has no turns to count (PcapCaptureLivenessIT). A thread that has ended, or is stuck in Java code (the
     * sink, a lock), shows its last turn.
     */
    /**
     * True when the stack has pcap4j's native read (or JNA's) and none of our code above it: waiting for a frame, or
     * in pcap4j's and JNA's own handling of one before our {@link #onFrame} (which counts a turn as it starts). The
     * first frame of a process can spend long there (class loading, the interpreter) and is not a hang; a thread
     * held in our code (the sink) is, and shows its last turn.
     */
    static boolean insideLibpcapOutsideOurCode(StackTraceElement[] stack) {
        for (StackTraceElement e : stack) {
            String c = e.getClassName();
            if (c.startsWith("dev.certknock.")) {
                return false;
            }
            if (e.isNativeMethod() && (c.startsWith("org.pcap4j.core.") || c.startsWith("com.sun.jna."))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public long lastTurnNanos() {
        Thread t = thread;
        if (t != null && t.getState() == Thread.State.RUNNABLE && insideLibpcapOutsideOurCode(t.getStackTrace())) {
            return System.nanoTime();
        }
        return lastTurn;
    }

    /** Knock datagrams handed to the sink so far. */
    @Override
    public long received() {
        return delivered.sum();
    }

    /** Skipped frames by reason (every reason present, zero included). */
    public Map<SkipReason, Long> skipped() {
        Map<SkipReason, Long> m = new EnumMap<>(SkipReason.class);
        for (SkipReason r : SkipReason.values()) {
            m.put(r, skipped.get(r.ordinal()));
        }
        return Collections.unmodifiableMap(m);
    }

    @Override
    public Map<String, Long> figures() {
        CaptureStats s = stats();
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("frames", s.frames());
        m.put("delivered", s.delivered());
        m.put("refusedBySink", s.refusedBySink());
        m.put("skipped", s.skipped());
        m.put("kernelReceived", s.kernelReceived());
        m.put("kernelDropped", s.kernelDropped());
        m.put("interfaceDropped", s.interfaceDropped());
        m.put("reopens", s.reopens());
        return m;
    }

    /** The figures now, kernel counters included. */
    public CaptureStats stats() {
        long skippedTotal = 0;
        for (int i = 0; i < skipped.length(); i++) {
            skippedTotal += skipped.get(i);
        }
        synchronized (lock) {
            long rec = pastReceived;
            long drop = pastDropped;
            long ifDrop = pastIfDropped;
            PcapStat s = current == null ? null : statsOf(current);
            if (s != null) {
                rec += s.getNumPacketsReceived();
                drop += s.getNumPacketsDropped();
                ifDrop += s.getNumPacketsDroppedByIf();
            }
            return new CaptureStats(frames.sum(), delivered.sum(), refused.sum(), skippedTotal, rec, drop, ifDrop,
                    reopens, current != null);
        }
    }

    @Override
    public void close() {
        Opened h;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            h = current;
            lock.notifyAll();
        }
        if (h != null) {
            try {
                h.handle().breakLoop();
            } catch (NotOpenException e) {
                // Already closed by the capture thread.
            }
        }
        if (thread != null) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warn("capture thread on {} did not stop within 5 s", settings.interfaceName());
            }
        }
    }

    /** The device has a link type {@link FrameParser} does not read. */
    private static final class UnsupportedLinkTypeException extends Exception {
        private static final long serialVersionUID = 1L;

        UnsupportedLinkTypeException(String message) {
            super(message);
        }
    }
}
