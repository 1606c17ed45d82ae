package dev.certknock.server.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Raises every logger to WARN for the life of this object, and restores the levels on close: for commands whose
 * standard output and error are their answer ({@code verify}), where the INFO lines of the services they reuse
 * (CRL loading, ...) would be noise in it. Warnings and errors still show.
 */
final class WarningsOnly implements AutoCloseable {

    private final Map<Logger, Level> before = new LinkedHashMap<>();

    WarningsOnly() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another logging backend: nothing to raise
        }
        for (Logger logger : context.getLoggerList()) {
            Level level = logger.getLevel();
            if (level != null && !level.isGreaterOrEqual(Level.WARN)) {
                before.put(logger, level);
                logger.setLevel(Level.WARN);
            }
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (!before.containsKey(root) && !root.getEffectiveLevel().isGreaterOrEqual(Level.WARN)) {
            before.put(root, root.getLevel());
            root.setLevel(Level.WARN);
        }
    }

    @Override
    public void close() {
        before.forEach(Logger::setLevel);
    }
}
