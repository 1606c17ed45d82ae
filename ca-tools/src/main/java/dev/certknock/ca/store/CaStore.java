package dev.certknock.ca.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.certknock.ca.CaException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Reads and writes a CA's settings and database. Changes go through {@link #lock()}: an exclusive lock on
 * {@code db.lock} held by one invocation at a time (a file lock across processes, a {@link ReentrantLock}
 * within this JVM, where file locks do not exclude threads), and a database written with
 * {@link AtomicFiles}, so a crash leaves the previous database intact.
 */
public final class CaStore {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS_LOCKS = new ConcurrentHashMap<>();

    private final CaDirectory dir;

    public CaStore(CaDirectory dir) {
        this.dir = dir;
    }

    public CaDirectory directory() {
        return dir;
    }

    /** The JSON mapper knock-ca uses for its files and its --json output. */
    public static ObjectMapper json() {
        return JSON;
    }

    public CaSettings settings() {
        return read(dir.settingsFile(), CaSettings.class);
    }

    /** The database as last committed; safe without the lock because commits are atomic renames. */
    public CaDatabase database() {
        return read(dir.databaseFile(), CaDatabase.class);
    }

    public void writeSettings(CaSettings settings) {
        AtomicFiles.write(dir.settingsFile(), toJson(settings), AtomicFiles.PUBLIC);
    }

    /** Writes the first database of a new CA (no lock needed: nobody else knows the directory yet). */
    public void createDatabase(CaDatabase db) {
        AtomicFiles.write(dir.databaseFile(), toJson(db), AtomicFiles.PUBLIC);
    }

    /** Takes the exclusive database lock, waiting for another invocation to finish. */
    public Locked lock() {
        Path lockPath = dir.lockFile().toAbsolutePath().normalize();
        ReentrantLock local = IN_PROCESS_LOCKS.computeIfAbsent(lockPath, p -> new ReentrantLock());
        local.lock();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock fileLock = channel.lock();
            return new Locked(channel, fileLock, local);
        } catch (IOException e) {
            closeQuietly(channel);
            local.unlock();
            throw CaException.failure("cannot lock the CA database " + lockPath + ": " + e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            local.unlock();
            throw e;
        }
    }

    /** The database lock, held until closed; reads and commits the database. */
    public final class Locked implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock fileLock;
        private final ReentrantLock local;

        private Locked(FileChannel channel, FileLock fileLock, ReentrantLock local) {
            this.channel = channel;
            this.fileLock = fileLock;
            this.local = local;
        }

        public CaDatabase read() {
            return database();
        }

        /** Replaces the database atomically. */
        public void commit(CaDatabase db) {
            AtomicFiles.write(dir.databaseFile(), toJson(db), AtomicFiles.PUBLIC);
        }

        @Override
        public void close() {
            try {
                fileLock.release();
            } catch (IOException ignored) {
                // closing the channel releases it too
            } finally {
                closeQuietly(channel);
                local.unlock();
            }
        }
    }

    static byte[] toJson(Object value) {
        try {
            return (JSON.writeValueAsString(value) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T read(Path file, Class<T> type) {
        try {
            return JSON.readValue(Files.readAllBytes(file), type);
        } catch (JsonProcessingException e) {
            throw CaException.badInput(file + " is damaged (" + e.getOriginalMessage()
                    + "): restore it from your backup of the CA directory");
        } catch (IOException e) {
            throw CaException.failure("cannot read " + file + ": " + e);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }
}
