package dev.certknock.ca.store;

import dev.certknock.ca.CaException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes files so that a reader (or a crash) sees either the old content or the new, never a mix: the
 * content goes to a temporary file in the same directory, is forced to disk, renamed over the target in one
 * atomic step, and the directory is forced too. Secret files are created 0600 from the start.
 */
public final class AtomicFiles {

    /** Owner read and write only: private keys and PKCS#12 bundles. */
    public static final Set<PosixFilePermission> SECRET = PosixFilePermissions.fromString("rw-------");
    /** Readable by all: certificates, CRLs, the database. */
    public static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");
    /** Owner only: the CA's private key directory. */
    public static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");

    /** Writes the content into an output stream; may fail, leaving the target untouched. */
    @FunctionalInterface
    public interface ContentWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Replaces {@code target} with {@code content} atomically. */
    public static void write(Path target, byte[] content, Set<PosixFilePermission> permissions) {
        write(target, out -> out.write(content), permissions);
    }

    /** Replaces {@code target} with what {@code writer} writes, atomically; on any failure the target is unchanged. */
    public static void write(Path target, ContentWriter writer, Set<PosixFilePermission> permissions) {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp", attributes(permissions));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                writer.writeTo(out);
                out.flush();
                ch.force(true);
            }
            Files.setPosixFilePermissions(tmp, permissions);
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            forceDirectory(dir);
        } catch (AtomicMoveNotSupportedException e) {
            throw CaException.failure("cannot replace " + target + " atomically on this file system: keep the CA on a local POSIX file system");
        } catch (IOException e) {
            throw CaException.failure("cannot write " + target + ": " + e + " (the previous content, if any, is unchanged)");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file is left behind; it never replaces the target
                }
            }
        }
    }

    /** Like {@link #write(Path, byte[], Set)} but refuses to replace an existing file. */
    public static void writeNew(Path target, byte[] content, Set<PosixFilePermission> permissions) {
        requireAbsent(target);
        write(target, content, permissions);
    }

    /** Refuses an output path that already exists, so that no key or bundle is ever overwritten. */
    public static void requireAbsent(Path target) {
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw CaException.failure(target + " already exists: choose another output path or move the old file away");
        }
        Path parent = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) {
            throw CaException.failure("cannot write " + target + ": directory " + parent + " does not exist");
        }
    }

    /** Creates a directory with the given permissions from the start (no window with wider ones). */
    public static void createDirectory(Path dir, Set<PosixFilePermission> permissions) {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(permissions));
            Files.setPosixFilePermissions(dir, permissions);
        } catch (FileAlreadyExistsException e) {
            throw CaException.failure(dir + " already exists");
        } catch (IOException e) {
            throw CaException.failure("cannot create directory " + dir + ": " + e);
        }
    }

    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> attributes(Set<PosixFilePermission> permissions) {
        return PosixFilePermissions.asFileAttribute(permissions);
    }

}
