package dev.certknock.server.diagnostics;

import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.event.LogText;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Verdict;
import dev.certknock.server.ratelimit.TokenBucket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the last refused datagrams on disk ({@code diagnostics.keepRefused}) so that the operator can run
 * {@code knock-server verify} on what actually arrived. Each is a file of the datagram's bytes alone, as
 * {@code knock --save-packet} writes it ({@code refused-TIME-SEQ-REASON.knock}), with a sidecar
 * ({@code .knock.txt}) naming the source, the time and the drop reason and the verify command to run; both 0600
 * in a 0700 directory, written whole (temporary file, then an atomic rename).
 *
 * <p>Off the knock path and bounded everywhere, since what it keeps is attacker input: {@link #dropped} takes a
 * token from a bucket of {@code perSecond} (burst the same) and offers a copy to a queue of {@link #QUEUE} entries
 * that one writer thread empties; a datagram beyond the rate or the queue is only counted. After each write
 * the oldest pairs are deleted until at most {@code count} remain and they hold at most {@code maxBytes}
 * together. Files already in the directory (an earlier run) count towards the bounds; files of other names are
 * never touched.
 */
public final class RefusedKeeper implements KnockEventListener, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RefusedKeeper.class);

    /** Datagrams waiting for the writer, at most. */
    static final int QUEUE = 64;
    static final String SUFFIX = ".knock";
    static final String SIDECAR = ".knock.txt";
    private static final Pattern NAME = Pattern.compile("refused-\\d{8}T\\d{9}Z-\\d{6}-[A-Z0-9_]+\\.knock");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

    /** What is kept: the bounds and the directory. */
    public record Settings(Path directory, int count, long maxBytes, int perSecond) {
    }

    private record Refusal(byte[] datagram, String source, Instant at, String reason, String stage, String detail) {
    }

    private record Kept(Path file, Path sidecar, long bytes) {
    }

    private final Settings settings;
    private final TokenBucket rate;
    private final BlockingQueue<Refusal> queue = new ArrayBlockingQueue<>(QUEUE);
    private final Deque<Kept> kept = new ArrayDeque<>();
    private long keptBytes;
    private long sequence;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong rateLimited = new AtomicLong();
    private final AtomicLong queueFull = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Thread writer;
    private volatile boolean closed;

    private RefusedKeeper(Settings settings, LongSupplier nanoTime) {
        this.settings = settings;
        this.rate = new TokenBucket(settings.perSecond(), settings.perSecond(), nanoTime);
        this.writer = new Thread(this::writeLoop, "knock-keep-refused");
        this.writer.setDaemon(true);
    }

    /**
     * Creates the directory (0700) when it is missing, takes in the files an earlier run kept (oldest first, trimmed
     * to the bounds) and starts the writer.
     */
    public static RefusedKeeper start(Settings settings, LongSupplier nanoTime) throws IOException {
        RefusedKeeper k = new RefusedKeeper(settings, nanoTime);
        Path dir = settings.directory();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        List<Path> earlier = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (NAME.matcher(name).matches()) {
                    earlier.add(f);
                } else if (name.startsWith(".keep-") && name.endsWith(".tmp")) {
                    Files.deleteIfExists(f); // left by a crash mid-write
                }
            }
        }
        earlier.sort(null);
        for (Path f : earlier) {
            Path sidecar = f.resolveSibling(f.getFileName() + ".txt");
            k.kept.addLast(new Kept(f, sidecar, size(f) + size(sidecar)));
            k.keptBytes += k.kept.peekLast().bytes();
        }
        k.trim();
        k.writer.start();
        return k;
    }

    @Override
    public void dropped(Verdict.Dropped verdict, KnockView context) {
        if (closed) {
            return;
        }
        if (!rate.tryAcquire()) {
            rateLimited.incrementAndGet();
            return;
        }
        Refusal r = new Refusal(context.datagram().bytes(), verdict.source().getAddress().getHostAddress(),
                context.datagram().receivedAt(), verdict.reason().name(), verdict.stage(), verdict.detail());
        if (!queue.offer(r)) {
            queueFull.incrementAndGet();
        }
    }

    /** Datagrams written so far. */
    public long written() {
        return written.get();
    }

    /** Refused datagrams not kept because more than {@code perSecond} came. */
    public long rateLimited() {
        return rateLimited.get();
    }

    /** Refused datagrams not kept because the writer's queue was full. */
    public long queueFull() {
        return queueFull.get();
    }

    /** Writes that failed (disk full, permissions): each logged as a warning, at most one a minute. */
    public long failed() {
        return failed.get();
    }

    /** Waits until the queue is empty and the writer idle, for tests; false on timeout. */
    boolean awaitIdle(long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            synchronized (this) {
                if (queue.isEmpty() && !busy) {
                    return true;
                }
            }
            Thread.sleep(5);
        }
        return false;
    }

    private boolean busy;
    private long lastFailureLog = Long.MIN_VALUE;

    private void writeLoop() {
        while (!closed) {
            Refusal r;
            try {
                r = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (r == null) {
                continue;
            }
            synchronized (this) {
                busy = true;
            }
            try {
                write(r);
                written.incrementAndGet();
            } catch (IOException | RuntimeException e) {
                failed.incrementAndGet();
                long now = System.nanoTime();
                if (lastFailureLog == Long.MIN_VALUE || now - lastFailureLog > TimeUnit.MINUTES.toNanos(1)) {
                    lastFailureLog = now;
                    LOG.warn("diagnostics.keepRefused: cannot keep a refused datagram in {}: {} ({} failed so far)",
                            settings.directory(), LogText.of(e.toString()), failed.get());
                }
            } finally {
                synchronized (this) {
                    busy = false;
                }
            }
        }
    }

    private void write(Refusal r) throws IOException {
        String base = "refused-" + TIME.format(r.at()) + "-" + String.format("%06d", sequence++ % 1_000_000) + "-" + r.reason();
        Path file = settings.directory().resolve(base + SUFFIX);
        Path sidecar = settings.directory().resolve(base + SIDECAR);
        String text = "source " + r.source() + "\n"
                + "received " + r.at() + "\n"
                + "reason " + r.reason() + "\n"
                + "stage " + LogText.of(r.stage()) + "\n"
                + "detail " + LogText.of(r.detail()) + "\n"
                + "bytes " + r.datagram().length + "\n"
                + "verify knock-server verify --config CONFIG --source " + r.source() + " --at packet " + file + "\n";
        byte[] sideBytes = text.getBytes(StandardCharsets.UTF_8);
        writeAtomically(file, r.datagram());
        writeAtomically(sidecar, sideBytes);
        kept.addLast(new Kept(file, sidecar, r.datagram().length + (long) sideBytes.length));
        keptBytes += kept.peekLast().bytes();
        trim();
    }

    /** Deletes the oldest pairs until the count and byte bounds hold. */
    private void trim() throws IOException {
        while (!kept.isEmpty() && (kept.size() > settings.count() || keptBytes > settings.maxBytes())) {
            Kept oldest = kept.removeFirst();
            keptBytes -= oldest.bytes();
            Files.deleteIfExists(oldest.file());
            Files.deleteIfExists(oldest.sidecar());
        }
    }

    private void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(settings.directory(), ".keep-", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        closed = true; // the writer sees it within its 200 ms poll; an interrupt could cut a write in half
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (rateLimited.get() + queueFull.get() + failed.get() > 0) {
            LOG.info("diagnostics.keepRefused: kept {} refused datagrams; not kept: {} over {}/s, {} with the writer busy, "
                    + "{} failed", written.get(), rateLimited.get(), settings.perSecond(), queueFull.get(), failed.get());
        }
    }
}
