package dev.certknock.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * An exclusive lock on a sibling {@code <name>.lock} file, held by one server at a time: another process's lock
 * (the kernel's record lock) and another holder in this JVM both count as held. The file is created empty with
 * mode 0600 (never through a symbolic link) and is left in place when the lock is released: deleting it would let
 * a later server lock a new file while an earlier one still holds the old.
 */
public final class LockFile {

    private LockFile() {
    }

    /** The lock file that guards {@code path}: {@code <path>.lock} beside it. */
    public static Path beside(Path path) {
        return path.resolveSibling(path.getFileName() + ".lock");
    }

    /**
     * Takes the lock on {@code lockPath} without waiting.
     *
     * @return the lock, or empty when another holder has it
     * @throws IOException when the file cannot be opened or locked for another reason
     */
    public static Optional<FileLock> tryLock(Path lockPath) throws IOException {
        FileChannel channel = FileChannel.open(lockPath, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            return Optional.empty();
        }
        return Optional.of(lock);
    }

    /** Releases the lock and closes its file (the file stays). */
    public static void release(FileLock lock) throws IOException {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } finally {
            lock.channel().close();
        }
    }
}
