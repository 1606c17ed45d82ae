package dev.certknock.server.systemd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %journalPriority} in a logback pattern: the syslog priority prefix journald reads from a line
 * ({@code <3>} ERROR, {@code <4>} WARN, {@code <6>} INFO, {@code <7>} DEBUG and TRACE; sd-daemon(3)) when stderr
 * is the journal ({@link JournalStream}), nothing otherwise. Decided once, when logging starts. Only the first
 * line of a message carries it: the lines of a stack trace that follow get journald's default priority.
 */
public final class JournalPriorityConverter extends ClassicConverter {

    private static final boolean JOURNAL = JournalStream.stderrIsJournal();

    @Override
    public String convert(ILoggingEvent event) {
        return JOURNAL ? prefix(event.getLevel()) : "";
    }

    /** The prefix for a level. */
    static String prefix(Level level) {
        if (level.isGreaterOrEqual(Level.ERROR)) {
            return "<3>";
        }
        if (level.isGreaterOrEqual(Level.WARN)) {
            return "<4>";
        }
        if (level.isGreaterOrEqual(Level.INFO)) {
            return "<6>";
        }
        return "<7>";
    }
}
