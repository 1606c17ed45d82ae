package dev.certknock.server.replay;

import dev.certknock.io.AtomicFile;
import dev.certknock.io.LockFile;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The on-disk form of the replay guard's entries: an append-only file of fixed-size records.
 *
 * <pre>
 * header (16 bytes): magic "CKREPLAY" (8) | version u32 = 1 | record size u32 = 60
 * record (60 bytes): leaf fingerprint (32) | nonce (16) | expiry epoch millis i64 | CRC-32C u32 of the 56 bytes before
 * </pre>
 *
 * All integers big-endian. Records are written with positional writes at the end of the last good
 * record: a write that fails part-way is overwritten by the next one, and a crash in the middle of a
 * write leaves a partial trailing record that {@link #read} ignores. A record whose checksum does not
 * match is skipped and counted. The file is only ever created or compacted with {@link AtomicFile#replace}:
 * a temporary sibling, forced, renamed over the journal, then the directory forced.
 *
 * <p>A sibling {@code <name>.lock} file is locked for the journal's lifetime so that two guards (two
 * server processes, or two guards in one JVM) never write one journal. The OS releases the lock when
 * the process dies, however it dies.
 *
 * <p>Not thread-safe: the guard calls it under its lock.
 */
final class ReplayJournal implements Closeable {

    static final byte[] MAGIC = "CKREPLAY".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_SIZE = 16;
    static final int RECORD_SIZE = ReplayKey.ENCODED_SIZE + Long.BYTES + Integer.BYTES;

    private final Path path;
    private final FileLock lock;
    private final ByteBuffer recordBuffer = ByteBuffer.allocate(RECORD_SIZE);
    private FileChannel channel;
    private long records;
    private boolean unforced;

    /** What {@link #read} found. */
    record Contents(Map<ReplayKey, Long> live, JournalLoadReport report) {
    }

    private ReplayJournal(Path path, FileLock lock) {
        this.path = path;
        this.lock = lock;
    }

    /**
     * Locks the journal, reads it (if it exists), and rewrites it with only the unexpired entries.
     *
     * @param sink receives the live entries before the journal is compacted
     * @throws ReplayJournalException if the file is not a version-1 replay journal, or is locked
     */
    static ReplayJournal open(Path path, long nowMillis, java.util.function.Consumer<Contents> sink)
            throws IOException {
        Path absolute = path.toAbsolutePath();
        Path parent = absolute.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path lockPath = LockFile.beside(absolute);
        FileLock lock = LockFile.tryLock(lockPath).orElseThrow(() -> new ReplayJournalException(absolute,
                "the replay journal is in use by another knock server (lock " + lockPath + " is held): stop the other "
                + "server, or give each server its own replay-state path"));
        ReplayJournal journal = new ReplayJournal(absolute, lock);
        try {
            Contents contents = read(absolute, nowMillis);
            sink.accept(contents);
            journal.rewrite(contents.live());
            return journal;
        } catch (IOException | RuntimeException e) {
            journal.close();
            throw e;
        }
    }

    /**
     * Reads a journal; a missing file is an empty journal. A zero-length file is refused: the server
     * creates the journal only by renaming a complete file with its header into place, so a journal of
     * zero bytes was truncated by something else, and the knocks it held are lost.
     */
    static Contents read(Path path, long nowMillis) throws IOException {
        if (!Files.exists(path)) {
            return new Contents(new HashMap<>(), JournalLoadReport.NONE);
        }
        if (Files.size(path) == 0) {
            throw new ReplayJournalException(path, "the replay journal is empty (0 bytes), but the server "
                    + "always writes it with a " + HEADER_SIZE + "-byte \"CKREPLAY\" header: it was truncated "
                    + "(a full disk, a restore, a tool), and the knocks it recorded are lost, so a recent knock "
                    + "could be replayed once. Restore the file if you can; otherwise wait until the timestamp "
                    + "window plus " + ReplayGuard.MARGIN.toSeconds() + " s has passed since the server last "
                    + "accepted a knock, then delete the file and the server starts a new journal");
        }
        Map<ReplayKey, Long> live = new HashMap<>();
        int expired = 0;
        int corrupt = 0;
        int trailing = 0;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            checkHeader(path, in.readNBytes(HEADER_SIZE));
            byte[] record = new byte[RECORD_SIZE];
            CRC32C crc = new CRC32C();
            while (true) {
                int n = in.readNBytes(record, 0, RECORD_SIZE);
                if (n < RECORD_SIZE) {
                    trailing = n;
                    break;
                }
                crc.reset();
                crc.update(record, 0, RECORD_SIZE - Integer.BYTES);
                ByteBuffer b = ByteBuffer.wrap(record);
                ReplayKey key = ReplayKey.readFrom(b);
                long expiry = b.getLong();
                int storedCrc = b.getInt();
                if ((int) crc.getValue() != storedCrc) {
                    corrupt++;
                } else if (expiry <= nowMillis) {
                    expired++;
                } else {
                    live.merge(key, expiry, Math::max);
                }
            }
        }
        return new Contents(live, new JournalLoadReport(live.size(), expired, corrupt, trailing));
    }

    private static void checkHeader(Path path, byte[] header) throws ReplayJournalException {
        String what = "delete or move it away and the server starts a new journal there, or set the "
                + "replay-state path to another file";
        if (header.length < HEADER_SIZE || !Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ReplayJournalException(path, "not a certknock replay journal (no \"CKREPLAY\" "
                    + "header); if this is the wrong path, fix the replay-state path in the configuration; "
                    + "otherwise " + what);
        }
        ByteBuffer b = ByteBuffer.wrap(header, MAGIC.length, HEADER_SIZE - MAGIC.length);
        int version = b.getInt();
        int recordSize = b.getInt();
        if (version != VERSION || recordSize != RECORD_SIZE) {
            throw new ReplayJournalException(path, "replay journal version " + version + " with " + recordSize
                    + "-byte records; this server reads version " + VERSION + " with " + RECORD_SIZE
                    + "-byte records: " + what + " (replays of knocks from the last minute may then be accepted once)");
        }
    }

    /**
     * Appends one record. On return the record is in the OS page cache (it survives the process being
     * killed); it reaches the disk at the next {@link #force()}. A failed write leaves the journal as it
     * was: the next append overwrites whatever part of the record was written.
     */
    void append(ReplayKey key, long expiryMillis) throws IOException {
        ensureOpen();
        recordBuffer.clear();
        encode(recordBuffer, key, expiryMillis);
        recordBuffer.flip();
        long position = HEADER_SIZE + records * RECORD_SIZE;
        while (recordBuffer.hasRemaining()) {
            position += channel.write(recordBuffer, position);
        }
        records++;
        unforced = true;
    }

    /**
     * For a force outside the guard's lock: the channel whose appends are not yet forced, now counted as forced,
     * or null when every append is. A failed force gives them back with {@link #markUnforced}.
     */
    FileChannel claimUnforced() {
        if (!unforced || channel == null) {
            return null;
        }
        unforced = false;
        return channel;
    }

    /** After a failed force of {@code forced}: its appends are still to be forced (unless it was replaced since). */
    void markUnforced(FileChannel forced) {
        if (forced == channel) {
            unforced = true;
        }
    }

    /** Whether appended records wait for a force. */
    boolean unforced() {
        return unforced;
    }

    /** Forces appended records to the disk, if any are not yet. */
    void force() throws IOException {
        ensureOpen();
        if (unforced) {
            channel.force(false);
            unforced = false;
        }
    }

    /**
     * Replaces the journal with one holding exactly {@code live}: written to a temporary sibling,
     * forced, renamed over the journal atomically, then the directory is forced. If this fails, the
     * journal in use is unchanged.
     */
    void rewrite(Map<ReplayKey, Long> live) throws IOException {
        AtomicFile.replace(path, out -> {
            WritableByteChannel ch = Channels.newChannel(out);
            ByteBuffer buffer = ByteBuffer.allocate(HEADER_SIZE + 1024 * RECORD_SIZE);
            buffer.put(MAGIC).putInt(VERSION).putInt(RECORD_SIZE);
            for (Map.Entry<ReplayKey, Long> e : live.entrySet()) {
                if (buffer.remaining() < RECORD_SIZE) {
                    drain(ch, buffer);
                }
                encode(buffer, e.getKey(), e.getValue());
            }
            drain(ch, buffer);
        }, AtomicFile.Mode.keepExistingOr(AtomicFile.OWNER_ONLY));
        FileChannel old = channel;
        channel = null;
        if (old != null) {
            old.close();
        }
        // If this open fails the journal stays closed and appends fail (the guard then fails closed)
        // rather than going to the file that was just replaced.
        channel = FileChannel.open(path, StandardOpenOption.WRITE);
        records = live.size();
        unforced = false;
    }

    /** Whether appends can go to the journal file. */
    boolean isOpen() {
        return channel != null && channel.isOpen();
    }

    /** Records in the file, live or not. */
    long records() {
        return records;
    }

    Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        try {
            if (channel != null && channel.isOpen()) {
                try {
                    force();
                } finally {
                    channel.close();
                }
            }
        } finally {
            LockFile.release(lock);
        }
    }

    private void ensureOpen() throws IOException {
        if (channel == null || !channel.isOpen()) {
            throw new IOException(path + ": the replay journal is closed");
        }
    }

    private static void encode(ByteBuffer out, ReplayKey key, long expiryMillis) {
        int start = out.position();
        key.writeTo(out);
        out.putLong(expiryMillis);
        CRC32C crc = new CRC32C();
        crc.update(out.array(), out.arrayOffset() + start, RECORD_SIZE - Integer.BYTES);
        out.putInt((int) crc.getValue());
    }

    private static void drain(WritableByteChannel out, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
        buffer.clear();
    }
}
