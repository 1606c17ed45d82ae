package dev.certknock.server.replay;

/**
 * What {@link ReplayGuard#open} found in an existing journal.
 *
 * @param liveEntries unexpired entries loaded (distinct keys)
 * @param expiredRecords records skipped because their entry had expired
 * @param corruptRecords records skipped because their checksum did not match
 * @param trailingBytes bytes of a partial last record ignored (a crash in the middle of a write)
 */
public record JournalLoadReport(int liveEntries, int expiredRecords, int corruptRecords, int trailingBytes) {

    static final JournalLoadReport NONE = new JournalLoadReport(0, 0, 0, 0);
}
