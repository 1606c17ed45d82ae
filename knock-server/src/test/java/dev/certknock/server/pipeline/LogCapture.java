package dev.certknock.server.pipeline;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Captures what is logged while it is open: a logback {@link ListAppender} on the root logger, with the
 * server's loggers ({@code dev.certknock}) at DEBUG so that INFO lines are seen too (the test
 * configuration's root level is WARN). Only events of the threads it is told about count, so that a
 * thread left over by another test cannot make a check fail.
 */
final class LogCapture implements AutoCloseable {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger server = (Logger) LoggerFactory.getLogger("dev.certknock");
    private final Level savedLevel;
    private final Predicate<String> threads;

    private LogCapture(Predicate<String> threads) {
        this.threads = threads;
        savedLevel = server.getLevel();
        server.setLevel(Level.DEBUG);
        appender.start();
        root.addAppender(appender);
    }

    /** Events of the calling thread. */
    static LogCapture ofThisThread() {
        String name = Thread.currentThread().getName();
        return new LogCapture(name::equals);
    }

    /** Events of the threads whose names start with {@code prefix}. */
    static LogCapture ofThreadsNamed(String prefix) {
        return new LogCapture(n -> n.startsWith(prefix));
    }

    /** The events captured so far, of the threads watched. */
    List<ILoggingEvent> events() {
        synchronized (appender) {
            return appender.list.stream().filter(e -> threads.test(e.getThreadName())).toList();
        }
    }

    /** The events above DEBUG, as "LEVEL logger - message" lines for readable failures. */
    List<String> aboveDebug() {
        return events().stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
                .map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage()).toList();
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        appender.stop();
        server.setLevel(savedLevel);
    }
}
