package dev.certknock.server.crl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CRLException;
import java.security.cert.X509CRL;
import java.util.HexFormat;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the last good CRL of each issuer in a directory, one file per issuer ({@code <hash of the
 * issuer name>.crl}, DER), so that a restart has revocation information even when no source answers.
 *
 * <p>Writes are atomic: the CRL goes to a temporary file in the same directory, which is forced to disk
 * and renamed over the old file with {@code ATOMIC_MOVE}; then the directory is forced. A crash or a
 * failed write leaves the previous file as it was. Loading offers every file to the store, so cached
 * CRLs pass the same checks as fetched ones; a corrupt or refused file is logged and skipped.
 */
public final class CrlCache {

    /** Something that can fail between writing the temporary file and renaming it; tests inject faults here. */
    @FunctionalInterface
    interface BeforeRename {
        void run(Path temporary) throws IOException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(CrlCache.class);
    private static final String SUFFIX = ".crl";
    private static final String TEMP_PREFIX = ".crl-";
    private static final String TEMP_SUFFIX = ".tmp";

    private final Path directory;
    private final int maxBytes;
    private final BeforeRename beforeRename;

    /**
     * @param directory where the CRLs are kept (created on the first save)
     * @param maxBytes  larger files are skipped when loading
     */
    public CrlCache(Path directory, int maxBytes) {
        this(directory, maxBytes, temporary -> { });
    }

    CrlCache(Path directory, int maxBytes, BeforeRename beforeRename) {
        this.directory = Objects.requireNonNull(directory, "directory");
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        this.maxBytes = maxBytes;
        this.beforeRename = beforeRename;
    }

    public Path directory() {
        return directory;
    }

    /** The file that holds the CRL of this issuer. */
    public Path fileFor(X500Principal issuer) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest(issuer.getName(X500Principal.CANONICAL).getBytes(StandardCharsets.UTF_8));
            return directory.resolve(HexFormat.of().formatHex(hash, 0, 16) + SUFFIX);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Saves the CRL as the last good one of its issuer, atomically replacing the one saved before. */
    public Path save(X509CRL crl) throws IOException {
        byte[] der;
        try {
            der = crl.getEncoded();
        } catch (CRLException e) {
            throw new IOException("could not encode the CRL of " + crl.getIssuerX500Principal().getName(), e);
        }
        Path target = fileFor(crl.getIssuerX500Principal());
        Files.createDirectories(directory);
        Path temporary = Files.createTempFile(directory, TEMP_PREFIX, TEMP_SUFFIX);
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(der);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            beforeRename.run(temporary);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        forceDirectory();
        return target;
    }

    /**
     * Offers every cached CRL to the store (the store's checks apply: a CRL of an issuer that is no longer
     * trusted, or older than what the store holds, is not taken). Never fails: unreadable, oversized or
     * refused files are logged and skipped, and leftover temporary files of an interrupted save removed.
     *
     * @return how many cached CRLs the store accepted
     */
    public int loadInto(CrlStore store) {
        if (!Files.isDirectory(directory)) {
            LOG.info("CRL cache {} does not exist yet: nothing to load", directory);
            return 0;
        }
        int accepted = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) {
                    deleteLeftover(file);
                } else if (name.endsWith(SUFFIX) && Files.isRegularFile(file)) {
                    try {
                        accepted += load(store, file) ? 1 : 0;
                    } catch (RuntimeException e) {
                        // one bad file never keeps the others from loading
                        LOG.warn("Ignoring cached CRL {}: {}", file, CrlParser.describe(e));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not list the CRL cache {}: {}; continuing without it", directory, CrlParser.describe(e));
        }
        return accepted;
    }

    private boolean load(CrlStore store, Path file) {
        byte[] der;
        try {
            der = readCapped(file, maxBytes);
        } catch (IOException e) {
            LOG.warn("Ignoring cached CRL {}: {}", file, CrlParser.describe(e));
            return false;
        }
        CrlUpdate update = store.offer(der, "cache " + file);
        if (update instanceof CrlUpdate.Rejected r) {
            LOG.warn("Ignoring cached CRL {}: {} ({})", file, r.message(), r.reason());
            return false;
        }
        return update instanceof CrlUpdate.Accepted;
    }

    /** Reads a file of at most {@code maxBytes} bytes, failing (without reading more) if it is longer. */
    static byte[] readCapped(Path file, int maxBytes) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] data = in.readNBytes(maxBytes);
            if (in.read() != -1) {
                throw new IOException("larger than the limit of " + maxBytes + " bytes");
            }
            return data;
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
    }

    private void deleteLeftover(Path file) {
        try {
            Files.deleteIfExists(file);
            LOG.info("Removed {}, left by an interrupted CRL cache write", file);
        } catch (IOException e) {
            LOG.warn("Could not remove {}, left by an interrupted CRL cache write: {}", file, CrlParser.describe(e));
        }
    }

    private void forceDirectory() {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some platforms cannot open or force a directory; the rename itself was atomic
            LOG.debug("Could not force the CRL cache directory {} to disk: {}", directory, CrlParser.describe(e));
        }
    }
}
