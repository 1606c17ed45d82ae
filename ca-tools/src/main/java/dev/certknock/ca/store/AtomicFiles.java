package dev.certknock.ca.store;

import dev.certknock.ca.CaException;
import dev.certknock.io.AtomicFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The CA's file writes, on the shared {@link AtomicFile}: a reader (or a crash) sees either the old content or the
 * new, never a mix, and secret files are 0600 from the start. This class adds the CA's messages ({@link CaException}
 * saying what to do) and its permission sets.
 *
 * <p>Files that must never be overwritten (keys, bundles, certificates handed out) are published with
 * {@link #writeNew}: the forced temporary file is hard-linked to the target, which the kernel refuses in one
 * step when the target exists (whatever appeared there since the first check), and then the temporary name
 * is removed. A rename cannot do this from Java: on Linux it replaces an existing target.
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
        try {
            AtomicFile.replace(target, writer::writeTo, AtomicFile.Mode.exactly(permissions));
        } catch (AtomicMoveNotSupportedException e) {
            throw CaException.failure("cannot replace " + target + " atomically on this file system: keep the CA on a local POSIX file system");
        } catch (IOException e) {
            throw CaException.failure("cannot write " + target + ": " + e + " (the previous content, if any, is unchanged)");
        }
    }

    /** Like {@link #write(Path, byte[], Set)} but refuses to replace an existing file. */
    public static void writeNew(Path target, byte[] content, Set<PosixFilePermission> permissions) {
        writeNew(target, out -> out.write(content), permissions);
    }

    /**
     * Writes a new file {@code target} with what {@code writer} writes, refusing to replace anything: a file
     * that exists before the call, or one that appears while the content is being written, is left as it is and
     * the call fails with "already exists". The target appears complete (forced to disk) or not at all.
     */
    public static void writeNew(Path target, ContentWriter writer, Set<PosixFilePermission> permissions) {
        requireAbsent(target);
        try {
            AtomicFile.createNew(target, writer::writeTo, permissions);
        } catch (FileAlreadyExistsException e) {
            throw alreadyExists(target);
        } catch (UnsupportedOperationException e) {
            throw CaException.failure("cannot create " + target + " without risk of overwriting: this file system has no "
                    + "hard links; write the output to a local POSIX file system");
        } catch (IOException e) {
            throw CaException.failure("cannot write " + target + ": " + e + " (nothing was written there)");
        }
    }

    private static CaException alreadyExists(Path target) {
        return CaException.failure(target + " already exists: choose another output path or move the old file away");
    }

    /**
     * Refuses an output path that already exists, before any work (key generation, issuance) is done for it.
     * This early check alone does not prevent an overwrite: {@link #writeNew} does, at the moment it writes.
     */
    public static void requireAbsent(Path target) {
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw alreadyExists(target);
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

}
