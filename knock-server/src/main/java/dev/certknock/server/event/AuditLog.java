package dev.certknock.server.event;

import dev.certknock.server.grant.CloseReason;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.knock.KnockView;
import dev.certknock.server.knock.Verdict;
import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: one JSON object per line for every accepted knock, grant opened and closed, CRL event,
 * and dropped knock (drops limited to {@code dropsPerSecond} lines a second of the monotonic clock by a
 * {@link LogThrottle}, the rest counted in the next line's {@code suppressed}). Times are UTC ISO-8601. Thread-safe; each line is written with one write call.
 * A failed write loses its line (counted in {@link #lostLines()}) and never stops the server: one WARN
 * when writing starts to fail, one INFO when it works again.
 */
public final class AuditLog implements KnockEventListener, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The file written, or null when writing to a caller's {@link Writer} (never reopened). */
    private final Path file;
    private final Writer writer;
    private final Clock clock;
    private final LogThrottle drops;
    /** The open file; null when reopening it failed, until a reopen works. Guarded by this. */
    private FileChannel channel;
    /** True from a failed write until a write succeeds again. Guarded by this. */
    private boolean failing;
    /** Lines lost since {@link #failing} became true. Guarded by this. */
    private long lostSinceFailing;
    private long lostTotal;
    private boolean closed;

    /** An audit log written to {@code out}, flushed after each line; a failed write is retried on the same writer. */
    public AuditLog(Writer out, Clock clock, LongSupplier nanoTime, int dropsPerSecond) {
        this(null, null, out, clock, nanoTime, dropsPerSecond);
    }

    private AuditLog(Path file, FileChannel channel, Writer writer, Clock clock, LongSupplier nanoTime,
            int dropsPerSecond) {
        this.file = file;
        this.channel = channel;
        this.writer = writer;
        this.clock = clock;
        this.drops = new LogThrottle(dropsPerSecond, Duration.ofSeconds(1), nanoTime);
    }

    /**
     * An audit log appended to {@code file} (created with its parent directories), 20 drop lines a
     * second. When a write fails (disk full, I/O error, a FIFO without a reader), the line is lost and
     * counted, and each next line tries again: by reopening the path when it is a regular file or
     * missing (so a replaced or deleted file is written anew), else on the file already open. One WARN
     * when writing starts to fail, one INFO when it works again, nothing per lost line above DEBUG.
     *
     * @throws IOException when the file cannot be opened now
     */
    public static AuditLog open(Path file, Clock clock, LongSupplier nanoTime) throws IOException {
        return open(file, clock, nanoTime, 20);
    }

    /** As {@link #open(Path, Clock, LongSupplier)}, with another limit of drop lines a second. */
    public static AuditLog open(Path file, Clock clock, LongSupplier nanoTime, int dropsPerSecond) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        return new AuditLog(file, openChannel(file), null, clock, nanoTime, dropsPerSecond);
    }

    /**
     * Opens the file for appending. If it ends in the middle of a line (a write failed or the server
     * died half-way), a newline is appended first, so that the next line is whole.
     */
    private static FileChannel openChannel(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        try {
            if (Files.isRegularFile(file) && !endsWithNewline(file)) {
                writeFully(ch, ByteBuffer.wrap(new byte[] {'\n'}));
            }
            return ch;
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /**
     * Whether a failing log may reopen its path: only a regular file or a missing one. Anything else
     * (a directory, a FIFO, a device) is not opened again: opening a FIFO without a reader would block
     * every thread that logs an event. The file already open is retried instead (a FIFO works again
     * once a reader comes back).
     */
    private static boolean reopenable(Path file) {
        return Files.isRegularFile(file) || Files.notExists(file);
    }

    private static boolean endsWithNewline(Path file) throws IOException {
        try (FileChannel r = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = r.size();
            if (size == 0) {
                return true;
            }
            ByteBuffer last = ByteBuffer.allocate(1);
            return r.read(last, size - 1) == 1 && last.get(0) == '\n';
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            ch.write(bytes);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // Closing releases the descriptor even when it reports an error: nothing more to do.
        }
    }

    /**
     * Opens the path again and writes every later line there (SIGHUP, after logrotate renamed the file): the new
     * file is opened before the old one is closed, under the lock every line is written under, so no line is lost
     * or written twice. When the path cannot be opened, lines go on to the file already open (where the rename put
     * it) and this says so; a log written to a caller's {@link Writer} has nothing to reopen.
     *
     * @return true when lines now go to a file newly opened at the path
     */
    public synchronized boolean reopen() {
        if (closed || file == null) {
            return false;
        }
        if (!reopenable(file)) {
            LOG.warn("audit log {} is not a regular file: not reopened; lines go on to the file already open", file);
            return false;
        }
        FileChannel next;
        try {
            next = openChannel(file);
        } catch (IOException e) {
            LOG.warn("cannot reopen the audit log {} ({}): lines go on to the file already open", file, e.toString());
            return false;
        }
        FileChannel previous = channel;
        channel = next;
        if (previous != null) {
            closeQuietly(previous);
        }
        LOG.info("audit log {} reopened", file);
        return true;
    }

    /** Lines that could not be written since this log was opened. */
    public synchronized long lostLines() {
        return lostTotal;
    }

    /** True from a failed write until a write succeeds again. */
    public synchronized boolean failing() {
        return failing;
    }

    private ObjectNode event(String kind) {
        ObjectNode n = JSON.createObjectNode();
        n.put("time", Instant.ofEpochMilli(clock.millis()).toString());
        n.put("event", kind);
        return n;
    }

    private static void decision(ObjectNode n, GrantDecision d) {
        n.put("address", d.address().getHostAddress());
        n.put("subject", d.subject().getName());
        n.put("issuer", d.issuer().getName());
        n.put("serial", d.serial().toString(16));
        var grants = n.putArray("grants");
        for (PortGrant g : d.grants()) {
            grants.add(g.toString());
        }
        n.put("durationSeconds", d.duration().toSeconds());
        n.put("expiresAt", d.expiresAt().toString());
    }

    @Override
    public void accepted(Verdict.Accepted v, KnockView context) {
        ObjectNode n = event("accepted");
        n.put("source", v.source().getAddress().getHostAddress());
        decision(n, v.decision());
        write(n);
    }

    @Override
    public void dropped(Verdict.Dropped v, KnockView context) {
        OptionalLong suppressed = drops.acquire();
        if (suppressed.isEmpty()) {
            return;
        }
        ObjectNode n = event("dropped");
        if (suppressed.getAsLong() > 0) {
            n.put("suppressed", suppressed.getAsLong());
        }
        n.put("source", v.source().getAddress().getHostAddress());
        n.put("reason", v.reason().name());
        n.put("stage", v.stage());
        if (context != null && context.verified() != null) {
            n.put("subject", context.verified().content().certificate().getSubjectX500Principal().getName());
            n.put("serial", context.verified().content().certificate().getSerialNumber().toString(16));
        }
        write(n);
    }

    @Override
    public void grantOpened(GrantDecision d) {
        ObjectNode n = event("grant-opened");
        decision(n, d);
        write(n);
    }

    @Override
    public void grantClosed(GrantDecision d, CloseReason why) {
        ObjectNode n = event("grant-closed");
        n.put("why", why.label());
        decision(n, d);
        write(n);
    }

    @Override
    public void crlAccepted(javax.security.auth.x500.X500Principal issuer, BigInteger number, int newlyRevoked) {
        ObjectNode n = event("crl-accepted");
        n.put("issuer", issuer.getName());
        n.put("crlNumber", number.toString());
        n.put("newlyRevoked", newlyRevoked);
        write(n);
    }

    @Override
    public void crlFailed(String origin, String reason) {
        ObjectNode n = event("crl-failed");
        n.put("origin", origin);
        n.put("reason", reason);
        write(n);
    }

    @Override
    public void crlFreshness(javax.security.auth.x500.X500Principal issuer, boolean fresh) {
        ObjectNode n = event(fresh ? "crl-fresh" : "crl-stale");
        n.put("issuer", issuer.getName());
        write(n);
    }

    private synchronized void write(ObjectNode n) {
        if (closed) {
            LOG.debug("audit log closed: {} event not written", n.path("event").asText());
            return;
        }
        try {
            String line = JSON.writeValueAsString(n) + "\n";
            if (file == null) {
                writer.write(line);
                writer.flush();
            } else {
                if (failing && reopenable(file)) {
                    if (channel != null) {
                        closeQuietly(channel);
                        channel = null;
                    }
                    channel = openChannel(file);
                }
                if (channel == null) {
                    throw new IOException(file + " is not a regular file any more: not reopened");
                }
                writeFully(channel, StandardCharsets.UTF_8.encode(line));
            }
        } catch (IOException e) {
            failed(e);
            return;
        }
        if (failing) {
            failing = false;
            LOG.info("audit log {} is written again; {} lines were lost while it could not be written", where(),
                    lostSinceFailing);
            lostSinceFailing = 0;
        }
    }

    /**
     * One WARN when writing starts to fail, then only DEBUG: what is written here is partly caused by
     * attackers (drops), so a broken audit file must not turn each junk packet into a WARN.
     */
    private void failed(IOException e) {
        lostTotal++;
        lostSinceFailing++;
        if (!failing) {
            failing = true;
            LOG.warn("cannot write the audit log {} ({}): audit lines are lost until it can be written again{}; "
                    + "further failures are counted, not logged", where(), e.toString(),
                    file == null ? "" : " (each line tries again)");
        } else {
            LOG.debug("audit log {} still cannot be written ({}); {} lines lost", where(), e.toString(),
                    lostSinceFailing);
        }
    }

    private String where() {
        return file == null ? "(writer)" : file.toString();
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (file == null) {
            writer.close();
        } else if (channel != null) {
            FileChannel ch = channel;
            channel = null;
            ch.close();
        }
    }
}
