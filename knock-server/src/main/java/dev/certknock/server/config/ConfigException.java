package dev.certknock.server.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A configuration the server refuses, with where (file, line, column when known) and what to do. Its
 * message is complete for an operator: print it as it is. It holds one problem or several ({@link #problems}),
 * sorted by line; the message is then one line per problem, each starting with its file and line, and
 * {@link #line}/{@link #column} are those of the first.
 */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    /**
     * One thing wrong with a configuration.
     *
     * @param line    1-based, or 0 when unknown
     * @param column  1-based, or 0 when unknown
     * @param message what is wrong and how to fix it, without the location
     */
    public record Problem(Path file, int line, int column, String message) {
        public Problem {
            Objects.requireNonNull(message, "message");
        }

        /** {@code file:line:column: message}, leaving out what is unknown. */
        @Override
        public String toString() {
            StringBuilder where = new StringBuilder(String.valueOf(file));
            if (line > 0) {
                where.append(':').append(line);
                if (column > 0) {
                    where.append(':').append(column);
                }
            }
            return where + ": " + message;
        }
    }

    /** By line, then column; problems without a line last, in the order found. */
    static final Comparator<Problem> BY_LINE = Comparator
            .comparingInt((Problem p) -> p.line() > 0 ? p.line() : Integer.MAX_VALUE)
            .thenComparingInt(Problem::column);

    private final transient List<Problem> problems;

    public ConfigException(Path file, int line, int column, String message, Throwable cause) {
        super(new Problem(file, line, column, message).toString(), cause);
        this.problems = List.of(new Problem(file, line, column, message));
    }

    /**
     * Several problems at once (at least one), sorted by line; the cause is the first one's, if it has one.
     */
    public ConfigException(List<ConfigException> each) {
        this(sorted(each), firstCause(each));
    }

    private ConfigException(List<Problem> problems, Throwable cause) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")), cause);
        this.problems = problems;
    }

    private static List<Problem> sorted(List<ConfigException> each) {
        if (each.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        List<Problem> all = new ArrayList<>();
        each.forEach(e -> all.addAll(e.problems()));
        all.sort(BY_LINE);
        return List.copyOf(all);
    }

    private static Throwable firstCause(List<ConfigException> each) {
        return each.stream().map(Throwable::getCause).filter(Objects::nonNull).findFirst().orElse(null);
    }

    /** Every problem, sorted by line (at least one). */
    public List<Problem> problems() {
        return problems;
    }

    public Path file() {
        return problems.get(0).file();
    }

    /** 1-based line of the first problem, or 0 when unknown. */
    public int line() {
        return problems.get(0).line();
    }

    /** 1-based column of the first problem, or 0 when unknown. */
    public int column() {
        return problems.get(0).column();
    }
}
