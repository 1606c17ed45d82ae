package dev.certknock.ca.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CA database: every certificate issued, with its revocation state, and the number and thisUpdate of the
 * last CRL. Immutable; changes make a new value that {@link CaStore} writes atomically.
 *
 * @param lastCrlAt thisUpdate (ISO-8601 instant) of the last CRL, or null when none was made since this field
 *                  was introduced (databases written before it read as null)
 */
public record CaDatabase(int formatVersion, long lastCrlNumber, String lastCrlAt, List<IssuedEntry> entries) {

    public static final int FORMAT_VERSION = 1;

    public CaDatabase {
        entries = List.copyOf(entries);
    }

    public static CaDatabase empty() {
        return new CaDatabase(FORMAT_VERSION, 0, null, List.of());
    }

    public Optional<IssuedEntry> find(String serialHex) {
        return entries.stream().filter(e -> e.serial().equals(serialHex)).findFirst();
    }

    /**
     * The certificates of this kind with this subject (DN text as the entries hold it) that are valid at {@code now}:
     * neither revoked nor expired.
     */
    public List<IssuedEntry> validWithSubject(String kind, String subject, java.time.Instant now) {
        return entries.stream().filter(e -> e.kind().equals(kind) && e.subject().equals(subject)
                && e.status(now).equals("valid")).toList();
    }

    public boolean containsSerial(String serialHex) {
        return find(serialHex).isPresent();
    }

    public CaDatabase with(IssuedEntry entry) {
        if (containsSerial(entry.serial())) {
            throw new IllegalStateException("serial " + entry.serial() + " is already in the database");
        }
        List<IssuedEntry> all = new ArrayList<>(entries);
        all.add(entry);
        return new CaDatabase(formatVersion, lastCrlNumber, lastCrlAt, all);
    }

    public CaDatabase replace(IssuedEntry entry) {
        List<IssuedEntry> all = new ArrayList<>(entries);
        all.replaceAll(e -> e.serial().equals(entry.serial()) ? entry : e);
        return new CaDatabase(formatVersion, lastCrlNumber, lastCrlAt, all);
    }

    /** The database after a CRL with this number and thisUpdate was made. */
    public CaDatabase withLastCrl(long number, java.time.Instant thisUpdate) {
        return new CaDatabase(formatVersion, number, thisUpdate.toString(), entries);
    }
}
