package dev.certknock.client.cli;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.certknock.client.knock.ObservedAddressCache;
import dev.certknock.io.AtomicFile;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The observed-address cache of {@code knock}: a small JSON file, so that the next run knocks with the address the
 * server saw last time. Read on every look-up, rewritten atomically (mode 0600) on every change, at most
 * {@value #MAX_ENTRIES} entries (the oldest learned go first). Never fails a knock: a file that cannot be read or
 * is not valid is reported in one line to {@code warnings} and treated as empty (an invalid one is rewritten);
 * a failed write is reported the same way.
 *
 * <pre>
 * {"version":1,"entries":[{"host":"gw1.example.test","knockPort":62201,"route":"192.168.1.20",
 *   "observed":"203.0.113.5","learned":"2026-12-05T10:15:30Z"}]}
 * </pre>
 */
final class FileObservedAddressCache implements ObservedAddressCache {

    /** The most entries the file keeps. */
    static final int MAX_ENTRIES = 64;
    static final int FORMAT_VERSION = 1;

    /** One learned address; addresses are IP literals, {@code learned} an ISO-8601 UTC instant. */
    @JsonPropertyOrder({"host", "knockPort", "route", "observed", "learned"})
    record Entry(String host, int knockPort, String route, String observed, String learned) {
    }

    /** The file's content. */
    @JsonPropertyOrder({"version", "entries"})
    record Document(int version, List<Entry> entries) {
    }

    private final Path file;
    private final Clock clock;
    private final Consumer<String> warnings;
    private ObjectMapper mapper;
    private boolean warned;

    FileObservedAddressCache(Path file, Clock clock, Consumer<String> warnings) {
        this.file = file.toAbsolutePath();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.warnings = Objects.requireNonNull(warnings, "warnings");
    }

    /** {@code --address-cache}, else {@code $XDG_CACHE_HOME/certknock/...}, else {@code ~/.cache/certknock/...}. */
    static Path locate(Path option, Function<String, String> env, Path home) {
        if (option != null) {
            return option;
        }
        String xdg = env.apply("XDG_CACHE_HOME");
        // The XDG spec: a relative path is invalid and is ignored.
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : home.resolve(".cache");
        return base.resolve("certknock").resolve("observed-addresses.json");
    }

    /** The JSON mapper, made on first use: while the file does not exist, a knock never loads Jackson. */
    private synchronized ObjectMapper mapper() {
        if (mapper == null) {
            mapper = new ObjectMapper()
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                    .enable(SerializationFeature.INDENT_OUTPUT);
        }
        return mapper;
    }

    Path file() {
        return file;
    }

    @Override
    public synchronized Optional<InetAddress> find(Key key) {
        for (Parsed p : load()) {
            if (p.key().equals(key)) {
                return Optional.of(p.observed());
            }
        }
        return Optional.empty();
    }

    @Override
    public synchronized void remember(Key key, InetAddress observed) {
        List<Parsed> all = load();
        all.removeIf(p -> p.key().equals(key));
        all.add(new Parsed(key, observed, clock.instant().toString()));
        while (all.size() > MAX_ENTRIES) {
            all.remove(0);
        }
        write(all);
    }

    @Override
    public synchronized void forget(Key key) {
        List<Parsed> all = load();
        if (all.removeIf(p -> p.key().equals(key))) {
            write(all);
        }
    }

    private record Parsed(Key key, InetAddress observed, String learned) {
    }

    /** The entries, oldest first; empty when the file is missing, unreadable or invalid. */
    private List<Parsed> load() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new ArrayList<>();
        } catch (IOException e) {
            warn("cannot read the address cache " + file + " (" + e.getMessage() + "): knocking without it");
            return new ArrayList<>();
        }
        try {
            Document d = mapper().readValue(bytes, Document.class);
            if (d == null || d.version() != FORMAT_VERSION || d.entries() == null) {
                throw new IllegalArgumentException(d == null ? "empty" : d.entries() == null ? "no entries"
                        : "format version " + d.version() + ", not " + FORMAT_VERSION);
            }
            List<Parsed> all = new ArrayList<>();
            for (Entry e : d.entries()) {
                all.add(parse(e));
            }
            while (all.size() > MAX_ENTRIES) {
                all.remove(0);
            }
            return all;
        } catch (IOException | IllegalArgumentException e) {
            String why = e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
            warn("the address cache " + file + " is not valid (" + firstLine(why) + "): ignoring it and writing "
                    + "it anew");
            write(List.of());
            return new ArrayList<>();
        }
    }

    private static Parsed parse(Entry e) {
        if (e == null || e.host() == null || e.host().isBlank()) {
            throw new IllegalArgumentException("an entry without a host");
        }
        String learned = e.learned() == null ? "" : e.learned();
        return new Parsed(new Key(e.host(), e.knockPort(), literal(e.route())), literal(e.observed()), learned);
    }

    /** An IP literal, never a name to look up. */
    private static InetAddress literal(String text) {
        if (text == null || text.isEmpty() || !(text.indexOf(':') >= 0
                || text.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9')))) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address");
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address", e);
        }
    }

    private void write(List<Parsed> all) {
        List<Entry> entries = new ArrayList<>();
        for (Parsed p : all) {
            entries.add(new Entry(p.key().host(), p.key().knockPort(), p.key().routeAddress().getHostAddress(),
                    p.observed().getHostAddress(), p.learned()));
        }
        try {
            byte[] json = mapper().writeValueAsBytes(new Document(FORMAT_VERSION, entries));
            Path dir = file.getParent();
            if (dir != null && !Files.isDirectory(dir)) {
                try {
                    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
                } catch (UnsupportedOperationException e) {
                    Files.createDirectories(dir);
                }
            }
            AtomicFile.replace(file, json, AtomicFile.Mode.exactly(AtomicFile.OWNER_ONLY));
        } catch (IOException | RuntimeException e) {
            warn("cannot write the address cache " + file + " (" + e.getMessage() + ")");
        }
    }

    private void warn(String message) {
        if (!warned) {
            warned = true;
            warnings.accept(message);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
