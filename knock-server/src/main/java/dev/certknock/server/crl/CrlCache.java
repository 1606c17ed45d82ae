package dev.certknock.server.crl;

import dev.certknock.io.AtomicFile;
import dev.certknock.server.event.LogText;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the last good CRL of each CA key in a directory, one file per CA key ({@code <hash of the issuer
 * name>-<key id>.crl}, DER, see {@link CaKey#fileStem}), so that a restart has revocation information even when
 * no source answers. Two CAs with the same name have two files.
 *
 * <p>Files of the earlier layout (one per issuer name, {@code <32 hex digits>.crl}) are offered like any other:
 * the store's signature check decides which CA key a CRL belongs to, so loading them is unambiguous. Once the
 * store holds a CRL at least as new for that key (the legacy file was accepted, or is older or the same), it is
 * written under the new name if it was accepted, and the legacy file is removed with an INFO line. A legacy file
 * the store refused for another reason (its CA is no longer trusted, say) is left as it is.
 *
 * <p>Writes are atomic ({@link AtomicFile#replace}): the CRL goes to a temporary file in the same directory,
 * which is forced to disk and renamed over the old file; then the directory is forced. A crash or a
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
    /** A file of the earlier layout: one per issuer name (32 hex digits of a hash of the name). */
    private static final Pattern LEGACY_NAME = Pattern.compile("[0-9a-f]{32}\\.crl");

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

    /** The file that holds the CRL of this CA key. */
    public Path fileFor(CaKey key) {
        return directory.resolve(key.fileStem() + SUFFIX);
    }

    /** Saves an accepted CRL as the last good one of the CA key that signed it, atomically replacing the one saved before. */
    public Path save(CrlUpdate.Accepted accepted) throws IOException {
        byte[] der = accepted.der();
        Path target = fileFor(accepted.caKey());
        Files.createDirectories(directory);
        AtomicFile.replace(target, out -> out.write(der), AtomicFile.Mode.exactly(AtomicFile.OWNER_ONLY),
                beforeRename::run);
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
        List<Path> current = new ArrayList<>();
        List<Path> legacy = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (AtomicFile.isTemporary(file)) {
                    deleteLeftover(file);
                } else if (name.endsWith(SUFFIX) && Files.isRegularFile(file)) {
                    (LEGACY_NAME.matcher(name).matches() ? legacy : current).add(file);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not list the CRL cache {}: {}; continuing without it", directory, CrlParser.describe(e));
        }
        int accepted = 0;
        // per-key files first, so that a legacy file is only ever saved over one when it is newer
        current.addAll(legacy);
        for (Path file : current) {
            try {
                accepted += load(store, file) ? 1 : 0;
            } catch (RuntimeException e) {
                // one bad file never keeps the others from loading
                LOG.warn("Ignoring cached CRL {}: {}", file, CrlParser.describe(e));
            }
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
        boolean legacy = LEGACY_NAME.matcher(file.getFileName().toString()).matches();
        if (update instanceof CrlUpdate.Rejected r) {
            if (legacy && r.reason() == RejectionReason.ROLLBACK) {
                removeLegacy(file, "the store holds a newer CRL of its CA key");
            } else if (r.reason() == RejectionReason.UNKNOWN_ISSUER) {
                // an intermediate the configuration does not list: the store keeps it until a knock shows the CA
                LOG.info("Cached CRL {} not taken yet: {}; it is taken if a knock's validated path shows its CA as "
                        + "an intermediate", file, LogText.of(r.message()));
            } else {
                LOG.warn("Ignoring cached CRL {}: {} ({})", file, LogText.of(r.message()), r.reason());
            }
            return false;
        }
        if (legacy && update instanceof CrlUpdate.Accepted accepted) {
            try {
                Path moved = save(accepted);
                removeLegacy(file, "saved again per CA key as " + moved.getFileName());
            } catch (IOException | RuntimeException e) {
                LOG.warn("Could not save the cached CRL {} under its per-key name: {}; keeping the old file",
                        file, CrlParser.describe(e));
            }
        } else if (legacy) {
            removeLegacy(file, "the store holds the same CRL of its CA key");
        }
        return update instanceof CrlUpdate.Accepted;
    }

    private void removeLegacy(Path file, String why) {
        try {
            Files.deleteIfExists(file);
            LOG.info("Removed {}, a CRL cache file of the earlier per-name layout: {}", file, why);
        } catch (IOException e) {
            LOG.warn("Could not remove {}, a CRL cache file of the earlier per-name layout: {}", file, CrlParser.describe(e));
        }
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
}
