package dev.certknock.server.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether stderr is connected to the journal: systemd sets {@code JOURNAL_STREAM} to
 * {@code <device>:<inode>} (decimal) of the stream it connects stdout/stderr to (systemd.exec(5)); stderr is the
 * journal when the file on descriptor 2 has that device and inode. Redirected elsewhere (a file, a pipe to
 * another program, a terminal) it does not match, and lines go without priority prefixes.
 */
public final class JournalStream {

    private JournalStream() {
    }

    /** Whether this process's stderr is the journal stream named by {@code JOURNAL_STREAM}. */
    public static boolean stderrIsJournal() {
        return matches(System.getenv("JOURNAL_STREAM"), Path.of("/proc/self/fd/2"));
    }

    /**
     * Whether {@code journalStream} ({@code device:inode}) names the file {@code path} opens (followed through
     * symbolic links, as {@code /proc/self/fd/N} is); false when it is unset, malformed or unreadable.
     */
    static boolean matches(String journalStream, Path path) {
        if (journalStream == null) {
            return false;
        }
        int colon = journalStream.indexOf(':');
        if (colon <= 0 || colon == journalStream.length() - 1) {
            return false;
        }
        try {
            long device = Long.parseUnsignedLong(journalStream.substring(0, colon));
            long inode = Long.parseUnsignedLong(journalStream.substring(colon + 1));
            return device == ((Number) Files.getAttribute(path, "unix:dev")).longValue()
                    && inode == ((Number) Files.getAttribute(path, "unix:ino")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException
                | SecurityException e) {
            return false;
        }
    }
}
