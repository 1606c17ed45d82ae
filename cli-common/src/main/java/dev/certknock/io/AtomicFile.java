package dev.certknock.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;

/**
 * The one way certknock persists a file so that a reader, or a crash, sees the old content or the new, never a
 * mix: the content goes to a temporary file in the target's directory (named {@code .<name>.<random>.tmp}), is
 * forced to disk, gets its permissions, and is then published in one atomic step; last the directory is forced
 * (best effort: some file systems cannot open a directory). On any failure the temporary file is removed and
 * the target is as it was.
 *
 * <p>Two ways to publish: {@link #replace} renames over the target ({@code ATOMIC_MOVE}); {@link #createNew}
 * hard-links the temporary file to the target, which the kernel refuses in one step when the target exists
 * (even when it appeared while the content was written), so nothing is ever overwritten.
 *
 * <p>Used by the CA's store, the server's CRL cache, replay journal and command-backend state, and the client's
 * target list. Failures are {@link IOException}s; callers add what the file is and what to do.
 */
public final class AtomicFile {

    /** Owner read and write only: keys, bundles, state naming addresses and subjects. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    /** Readable by all: certificates, CRLs, public settings. */
    public static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");

    /** Writes the content; may fail, which leaves the target untouched. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Runs on the complete, forced temporary file just before it is published; tests inject faults here. */
    @FunctionalInterface
    public interface BeforePublish {
        void run(Path temporary) throws IOException;
    }

    /**
     * The permissions a written file gets.
     *
     * @param permissions      the permissions of a new file, or of every file when {@code keepExisting} is false
     * @param keepExisting     whether a replaced target keeps the permissions it had
     */
    public record Mode(Set<PosixFilePermission> permissions, boolean keepExisting) {
        public Mode {
            permissions = Set.copyOf(Objects.requireNonNull(permissions, "permissions"));
        }

        /** Always these permissions. */
        public static Mode exactly(Set<PosixFilePermission> permissions) {
            return new Mode(permissions, false);
        }

        /** The replaced target's permissions, or these for a new file. */
        public static Mode keepExistingOr(Set<PosixFilePermission> permissions) {
            return new Mode(permissions, true);
        }
    }

    private static final BeforePublish NOTHING = temporary -> { };
    private static final String TEMP_SUFFIX = ".tmp";

    private AtomicFile() {
    }

    /** Replaces {@code target} with {@code content} atomically. */
    public static void replace(Path target, byte[] content, Mode mode) throws IOException {
        replace(target, out -> out.write(content), mode, NOTHING);
    }

    /** Replaces {@code target} with what {@code content} writes, atomically. */
    public static void replace(Path target, Content content, Mode mode) throws IOException {
        replace(target, content, mode, NOTHING);
    }

    /**
     * Replaces {@code target} with what {@code content} writes, atomically: on return the new content is on
     * disk under the target's name; on failure the target is unchanged and no temporary file is left.
     *
     * @throws java.nio.file.AtomicMoveNotSupportedException when the file system cannot rename atomically
     */
    public static void replace(Path target, Content content, Mode mode, BeforePublish beforePublish)
            throws IOException {
        Path absolute = target.toAbsolutePath();
        Set<PosixFilePermission> permissions = mode.permissions();
        if (mode.keepExisting()) {
            permissions = existingPermissions(absolute, permissions);
        }
        Path tmp = writeTemporary(absolute, content, permissions);
        try {
            beforePublish.run(tmp);
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp, e);
            throw e;
        }
        forceDirectory(absolute.getParent());
    }

    /** Creates {@code target} with {@code content}, refusing to replace anything. */
    public static void createNew(Path target, byte[] content, Set<PosixFilePermission> permissions) throws IOException {
        createNew(target, out -> out.write(content), permissions, NOTHING);
    }

    /** Creates {@code target} with what {@code content} writes, refusing to replace anything. */
    public static void createNew(Path target, Content content, Set<PosixFilePermission> permissions)
            throws IOException {
        createNew(target, content, permissions, NOTHING);
    }

    /**
     * Creates {@code target} with what {@code content} writes: complete (forced to disk) or not at all, and
     * never over an existing file, even one that appears while the content is written or a dangling symbolic
     * link: link(2) fails with EEXIST in one step.
     *
     * @throws FileAlreadyExistsException when the target exists
     * @throws UnsupportedOperationException when the file system has no hard links
     */
    public static void createNew(Path target, Content content, Set<PosixFilePermission> permissions,
            BeforePublish beforePublish) throws IOException {
        Path absolute = target.toAbsolutePath();
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString());
        }
        Path tmp = writeTemporary(absolute, content, permissions);
        try {
            beforePublish.run(tmp);
            Files.createLink(absolute, tmp);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp, e);
            throw e;
        }
        Files.delete(tmp);
        forceDirectory(absolute.getParent());
    }

    /**
     * Forces a directory's entries (a rename, a new link) to disk. Best effort: some platforms and file systems
     * cannot open or force a directory; there the rename itself was atomic and durability is left to the OS.
     *
     * @return whether the directory was forced
     */
    public static boolean forceDirectory(Path directory) {
        if (directory == null) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Whether {@code file} is a temporary file this class writes for {@code targetName}, left by a crash. */
    public static boolean isTemporaryFor(Path file, String targetName) {
        Path name = file.getFileName();
        return name != null && name.toString().startsWith(temporaryPrefix(targetName))
                && name.toString().endsWith(TEMP_SUFFIX);
    }

    /** Whether {@code file} is a temporary file this class writes, for any target, left by a crash. */
    public static boolean isTemporary(Path file) {
        Path name = file.getFileName();
        return name != null && name.toString().startsWith(".") && name.toString().endsWith(TEMP_SUFFIX);
    }

    private static String temporaryPrefix(String targetName) {
        return "." + targetName + ".";
    }

    /** A temporary file beside {@code absolute} with the content, forced to disk, with the permissions. */
    private static Path writeTemporary(Path absolute, Content content, Set<PosixFilePermission> permissions)
            throws IOException {
        Path dir = absolute.getParent();
        boolean posix = Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class);
        // created owner-only (createTempFile's default), never wider than asked for at any moment
        FileAttribute<?>[] attributes = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        Path tmp = Files.createTempFile(dir, temporaryPrefix(absolute.getFileName().toString()), TEMP_SUFFIX,
                attributes);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = Channels.newOutputStream(ch);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            if (posix) {
                Files.setPosixFilePermissions(tmp, permissions);
            }
            return tmp;
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp, e);
            throw e;
        }
    }

    private static Set<PosixFilePermission> existingPermissions(Path absolute, Set<PosixFilePermission> otherwise)
            throws IOException {
        try {
            return Files.getPosixFilePermissions(absolute);
        } catch (NoSuchFileException | UnsupportedOperationException e) {
            return otherwise;
        }
    }

    private static void deleteQuietly(Path tmp, Throwable cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            // left behind: it is never read as the target; callers can find it with isTemporaryFor
            cause.addSuppressed(e);
        }
    }
}
