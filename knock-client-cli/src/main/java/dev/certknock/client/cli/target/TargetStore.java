package dev.certknock.client.cli.target;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker;
import dev.certknock.cli.ExitCodes;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import dev.certknock.cli.UserException;
import dev.certknock.io.AtomicFile;
import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The targets file (YAML): named targets so that {@code knock gw1} suffices. Written atomically (a temporary
 * file in the same directory, then a rename), so a crash never leaves half a file.
 *
 * <pre>
 * targets:
 *   gw1:
 *     host: gw1.example.test
 *     serverCert: /home/alice/.config/certknock/gw1.pem
 *     bundle: /home/alice/.config/certknock/alice.p12
 *     grants: [tcp/22]
 * </pre>
 */
public final class TargetStore {

    /** The variable that names the targets file, when --targets is not given. */
    public static final String ENV = "CERTKNOCK_TARGETS";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    /** The file's content: targets by name. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Document(Map<String, TargetEntry> targets) {
    }

    private final Path file;
    private ObjectMapper mapper;

    /**
     * Values are written without quotes only when no YAML 1.1 reader can take them for anything but a string: a
     * letter or '/' first, then letters, digits, '.', '_', '/' and '-' (and no reserved word such as {@code on}), or
     * a dotted quad such as {@code 127.0.0.1}.
     * Anything else is quoted: Jackson's own check misses YAML 1.1's base-60 numbers, so a host such as
     * {@code 1:2:3:4:5:6:7:8} (an IPv6 address) or {@code 00:1.} was written plain and then read back as a number, or
     * refused (found by {@code TargetStoreFuzzTest}).
     */
    private static final StringQuotingChecker PLAIN_ONLY_WHEN_SAFE = new StringQuotingChecker.Default() {
        private static final long serialVersionUID = 1L;
        // A dotted quad (two dots or more, digits only) is no YAML number either: 127.0.0.1 stays readable.
        private final java.util.regex.Pattern safe =
                java.util.regex.Pattern.compile("[A-Za-z/][A-Za-z0-9._/-]*|[0-9]+(\\.[0-9]+){2,}");

        @Override
        public boolean needToQuoteValue(String value) {
            return super.needToQuoteValue(value) || !safe.matcher(value).matches();
        }
    };


    public TargetStore(Path file) {
        this.file = file.toAbsolutePath();
    }

    /**
     * The YAML mapper, made on first use: a knock that names a host and has no targets file never loads Jackson
     * (a few hundred classes, tens of milliseconds of the client's start).
     */
    private ObjectMapper mapper() {
        if (mapper == null) {
            ObjectMapper m = new ObjectMapper(YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .stringQuotingChecker(PLAIN_ONLY_WHEN_SAFE)
                    .build())
                    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
            // grants: [~] is refused by Jackson at its line, not as a NullPointerException from List.copyOf
            m.configOverride(java.util.List.class).setSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL));
            mapper = m;
        }
        return mapper;
    }

    /**
     * The file {@code --targets} names, or else $CERTKNOCK_TARGETS, or else
     * {@code $XDG_CONFIG_HOME/certknock/targets.yaml} (an absolute $XDG_CONFIG_HOME: the XDG base directory
     * specification ignores a relative one), or else {@code HOME/.config/certknock/targets.yaml}.
     *
     * @param home the home directory: $HOME (see {@code CliContext.system()})
     */
    public static Path locate(Path option, java.util.function.Function<String, String> env, Path home) {
        if (option != null) {
            return option;
        }
        String fromEnv = env.apply(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        String xdg = env.apply("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : home.resolve(".config");
        return base.resolve("certknock").resolve("targets.yaml");
    }

    public Path file() {
        return file;
    }

    /**
     * All targets, sorted by name; empty when the file does not exist. Every target is checked as read: its name, a
     * host, the port (1-65535), the duration (1-86400 seconds), each grant, and no empty file names.
     *
     * @throws UserException {@link ExitCodes#BAD_INPUT} naming the file, the line when known, the target and what to
     *     change when the file is not valid; {@link ExitCodes#FAILURE} when it cannot be read
     */
    public Map<String, TargetEntry> load() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return new TreeMap<>();
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot read targets file " + file + ": " + e.getMessage(), e);
        }
        return parse(text);
    }

    /** The targets in a targets file's text, checked as {@link #load} says. */
    Map<String, TargetEntry> parse(String text) {
        if (text.isBlank()) {
            return new TreeMap<>();
        }
        Document d;
        try {
            d = mapper().readValue(text, Document.class);
        } catch (JacksonException e) {
            MarkedYAMLException yaml = yamlCause(e);
            if (yaml != null) {
                var mark = yaml.getProblemMark() != null ? yaml.getProblemMark() : yaml.getContextMark();
                int[] where = mark == null ? new int[] {0, 0} : new int[] {mark.getLine() + 1, mark.getColumn() + 1};
                String problem = yaml.getProblem() != null ? yaml.getProblem() : String.valueOf(yaml.getContext());
                throw new UserException(ExitCodes.BAD_INPUT, "targets file " + file + at(where) + " is not valid YAML: "
                        + problem.strip() + " (check the indentation: the keys of one target line up under it; and a "
                        + "colon and a space after each key)", e);
            }
            JsonLocation at = e.getLocation();
            int[] where = {at == null ? 0 : at.getLineNr(), at == null ? 0 : at.getColumnNr()};
            List<String> path = new ArrayList<>();
            if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
                // Jackson reports where it stopped, after the value: point at the key it names instead
                JsonPointer key = JsonPointer.empty();
                for (JsonMappingException.Reference r : m.getPath()) {
                    key = r.getFieldName() != null ? key.appendProperty(r.getFieldName()) : key.appendIndex(r.getIndex());
                    path.add(r.getFieldName() != null ? r.getFieldName() : "item " + (r.getIndex() + 1));
                }
                int[] keyAt = position(text, key, key);
                if (keyAt[0] > 0) {
                    where = keyAt;
                }
            }
            throw new UserException(ExitCodes.BAD_INPUT, "targets file " + file + at(where) + " is not valid: "
                    + explain(e, path) + " (fix it in the file; docs/CLIENT.md section 3 shows one)", e);
        }
        Map<String, TargetEntry> all = new TreeMap<>();
        if (d == null || d.targets() == null) {
            return all;
        }
        for (Map.Entry<String, TargetEntry> e : d.targets().entrySet()) {
            Problem problem = problem(e.getKey(), e.getValue());
            if (problem != null) {
                int[] where = position(text, e.getKey(), problem.key());
                throw new UserException(ExitCodes.BAD_INPUT, "targets file " + file + at(where) + ": target '"
                        + printable(e.getKey()) + "' " + problem.text() + " (fix it in the file, or remove the target "
                        + "and add it again with: knock target add)");
            }
            all.put(e.getKey(), e.getValue());
        }
        return all;
    }

    /** What is wrong with a target as read, and the key it is about (null: the target itself). */
    record Problem(String key, String text) {
    }

    /** What is wrong with a target as read, or null. */
    static Problem problem(String name, TargetEntry t) {
        if (!NAME.matcher(name).matches()) {
            return new Problem(null, "has a name that is not allowed: use letters, digits, '.', '_' and '-' (up to 63 "
                    + "characters, starting with a letter or digit)");
        }
        if (t == null) {
            return new Problem(null, "is empty: give it at least a host");
        }
        if (t.host() == null || t.host().isBlank()) {
            return new Problem(t.host() == null ? null : "host", "has no host: add host: NAME-OR-ADDRESS");
        }
        if (t.host().chars().anyMatch(c -> c <= ' ' || c == 0x7F)) {
            return new Problem("host", "has a host with spaces or control characters: write the host name or address "
                    + "alone");
        }
        if (t.port() != null && (t.port() < 1 || t.port() > 65535)) {
            return new Problem("port", "has port " + t.port() + ", outside 1-65535: write the knock port, or leave it "
                    + "out for 62201");
        }
        if (t.duration() != null && (t.duration() < 1 || t.duration() > 86_400)) {
            return new Problem("duration", "has duration " + t.duration() + ", outside 1-86400 seconds: write seconds "
                    + "in that range, or leave it out");
        }
        for (String g : t.grants()) {
            try {
                PortGrant.parse(g);
            } catch (IllegalArgumentException e) {
                return new Problem("grants", "has grant '" + printable(g) + "' that is not valid (" + e.getMessage()
                        + "): write grants such as tcp/22 or udp/8000-8100");
            }
        }
        String[][] files = {{"serverCert", t.serverCert()}, {"bundle", t.bundle()}, {"alias", t.alias()},
            {"caCert", t.caCert()}, {"passwordFile", t.passwordFile()}, {"serverName", t.serverName()}};
        for (String[] f : files) {
            if (f[1] != null && f[1].isBlank()) {
                return new Problem(f[0], "has an empty " + f[0] + ": give a value or leave the key out");
            }
        }
        if (t.serverName() != null && t.serverName().chars().anyMatch(c -> c <= ' ' || c == 0x7F)) {
            return new Problem("serverName", "has a serverName with spaces or control characters: write the name the "
                    + "server certificate carries, alone");
        }
        return null;
    }

    private static MarkedYAMLException yamlCause(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof MarkedYAMLException m) {
                return m;
            }
        }
        return null;
    }

    /**
     * What Jackson found wrong, in the file's own words: the key, what it holds and what it should, never a Java
     * class name.
     */
    static String explain(JacksonException e, List<String> path) {
        String where = path.isEmpty() ? "" : describe(path);
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> known = new ArrayList<>();
            if (u.getKnownPropertyIds() != null) {
                u.getKnownPropertyIds().forEach(k -> known.add(String.valueOf(k)));
            }
            java.util.Collections.sort(known);
            String owner = path.size() >= 3 ? "target '" + printable(path.get(1)) + "'" : path.size() == 1 ? "the file"
                    : "the targets";
            return "unknown key '" + printable(u.getPropertyName()) + "' in " + owner
                    + (known.isEmpty() ? "" : ": the keys are " + String.join(", ", known));
        }
        if (e instanceof InvalidNullException) {
            return where + " holds an empty item: remove it";
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return where + " should be " + expected(m.getTargetType()) + found(m);
        }
        // a YAML syntax error: the parser's first line (snakeyaml's own words), without its copy of the text
        String message = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().strip();
        int nl = message.indexOf('\n');
        message = nl < 0 ? message : message.substring(0, nl);
        message = message.replaceAll("\\(class [^)]*\\)", "").replaceAll("`[a-z]+(\\.[A-Za-z0-9_$]+)+(<[^`]*>)?`", "a value")
                .strip();
        return (where.isEmpty() ? "" : where + ": ") + (message.isEmpty() ? "not YAML" : message);
    }

    private static String describe(List<String> path) {
        if (path.size() >= 3 && "targets".equals(path.get(0))) {
            return "key '" + printable(path.get(2)) + "' of target '" + printable(path.get(1)) + "'"
                    + (path.size() > 3 ? " (" + path.get(3) + ")" : "");
        }
        if (path.size() == 2 && "targets".equals(path.get(0))) {
            return "target '" + printable(path.get(1)) + "'";
        }
        return "key '" + printable(String.join(".", path)) + "'";
    }

    private static String expected(Class<?> type) {
        if (type == Integer.class || type == int.class) {
            return "a whole number";
        }
        if (type == String.class) {
            return "a single value (text)";
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return "a list, e.g. [tcp/22, udp/8000-8100]";
        }
        return "a set of keys (key: value, one per line, indented)";
    }

    private static String found(MismatchedInputException m) {
        if (m instanceof InvalidFormatException f && f.getValue() != null) {
            return ", not '" + printable(String.valueOf(f.getValue())) + "'";
        }
        return "";
    }

    /** The line and column of {@code targets.<name>.<field>} (or of the target when field is null or not found). */
    private static int[] position(String text, String name, String field) {
        JsonPointer target = JsonPointer.compile("/targets").appendProperty(name);
        return position(text, field == null ? target : target.appendProperty(field), target);
    }

    /** The line and column of the key at {@code key}, else of the one at {@code fallback}, else {0, 0}. */
    private static int[] position(String text, JsonPointer key, JsonPointer target) {
        int[] targetAt = {0, 0};
        try (JsonParser p = new YAMLFactory().createParser(text)) {
            while (p.nextToken() != null) {
                if (p.currentToken() != JsonToken.FIELD_NAME) {
                    continue;
                }
                JsonPointer here = p.getParsingContext().pathAsPointer();
                JsonLocation at = p.currentTokenLocation();
                if (here.equals(key)) {
                    return new int[] {at.getLineNr(), at.getColumnNr()};
                }
                if (targetAt[0] == 0 && here.equals(target)) {
                    targetAt = new int[] {at.getLineNr(), at.getColumnNr()};
                }
            }
        } catch (IOException | RuntimeException e) {
            // the position is a help only; the message names the target
        }
        return targetAt;
    }

    private static String at(int[] where) {
        return where[0] <= 0 ? "" : " line " + where[0] + (where[1] > 0 ? ", column " + where[1] : "");
    }

    /** A name or value from the file as it may be printed: control characters escaped. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(100).forEach(c -> {
            if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return s.codePointCount(0, s.length()) > 100 ? b + "..." : b.toString();
    }

    public Optional<TargetEntry> find(String name) {
        return Optional.ofNullable(load().get(name));
    }

    /** Adds or replaces a target. */
    public void put(String name, TargetEntry entry) {
        requireName(name);
        Map<String, TargetEntry> all = load();
        all.put(name, entry);
        write(all);
    }

    /** Removes a target; false when there was none of that name. */
    public boolean remove(String name) {
        Map<String, TargetEntry> all = load();
        if (all.remove(name) == null) {
            return false;
        }
        write(all);
        return true;
    }

    static void requireName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new UserException(ExitCodes.BAD_INPUT, "target name '" + name + "' is not allowed: use letters, "
                    + "digits, '.', '_' and '-' (up to 63 characters, starting with a letter or digit)");
        }
    }

    /** The file's text for these targets. */
    String render(Map<String, TargetEntry> all) throws JsonProcessingException {
        return "# certknock targets: knock NAME sends a knock to a target below.\n"
                + mapper().writeValueAsString(new Document(all));
    }

    private void write(Map<String, TargetEntry> all) {
        try {
            Files.createDirectories(file.getParent());
            // owner-only as before for a new file; an existing file keeps its permissions
            AtomicFile.replace(file, render(all).getBytes(StandardCharsets.UTF_8),
                    AtomicFile.Mode.keepExistingOr(AtomicFile.OWNER_ONLY));
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot write targets file " + file + ": " + e.getMessage(), e);
        }
    }
}
