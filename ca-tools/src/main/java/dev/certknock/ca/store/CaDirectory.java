package dev.certknock.ca.store;

import dev.certknock.ca.CaException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The layout of a CA directory:
 * <pre>
 * ca.json          settings fixed by init (CaSettings)
 * ca.pem           the CA certificate
 * chain.pem        the CA certificate followed by its issuers up to the root
 * private/ca.key   the CA private key, encrypted PKCS#8 PEM, 0600 in a 0700 directory
 * db.json          the database of issued certificates (CaDatabase)
 * db.lock          the lock file that serialises changes to db.json
 * certs/SERIAL.pem a copy of every certificate issued
 * </pre>
 */
public record CaDirectory(Path root) {

    public Path settingsFile() {
        return root.resolve("ca.json");
    }

    public Path certificateFile() {
        return root.resolve("ca.pem");
    }

    public Path chainFile() {
        return root.resolve("chain.pem");
    }

    public Path privateDir() {
        return root.resolve("private");
    }

    public Path keyFile() {
        return privateDir().resolve("ca.key");
    }

    public Path databaseFile() {
        return root.resolve("db.json");
    }

    public Path lockFile() {
        return root.resolve("db.lock");
    }

    public Path issuedDir() {
        return root.resolve("certs");
    }

    public Path issuedFile(String serialHex) {
        return issuedDir().resolve(serialHex + ".pem");
    }

    /** The directory, checked to be a CA made by {@code knock-ca init}. */
    public static CaDirectory open(Path dir) {
        CaDirectory ca = new CaDirectory(dir);
        if (!Files.isDirectory(dir)) {
            throw CaException.badInput("CA directory " + dir + " does not exist: create a CA with 'knock-ca init --dir "
                    + dir + "' or give the right one with --dir");
        }
        for (Path p : new Path[] {ca.settingsFile(), ca.certificateFile(), ca.keyFile(), ca.databaseFile()}) {
            if (!Files.isRegularFile(p)) {
                throw CaException.badInput(dir + " is not a knock-ca CA directory (" + dir.relativize(p)
                        + " is missing): give the CA's directory with --dir, or create a CA with 'knock-ca init'");
            }
        }
        return ca;
    }
}
