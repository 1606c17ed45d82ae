package dev.certknock.server.config;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.IgnoredPropertyException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads config.yaml strictly: unknown keys, wrong types, duplicate keys and out-of-range values are
 * refused with file, line and column. Paths in the file are relative to the file's directory.
 * Durations are written {@code 500ms}, {@code 30s}, {@code 15m}, {@code 1h} or {@code 1d}.
 */
public final class ConfigLoader {

    /** At most this many bytes of configuration: a config file is small. */
    static final long MAX_SIZE = 1024 * 1024;

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

    private ConfigLoader() {
    }

    public static ServerConfig load(Path file) throws ConfigException {
        Path absolute = file.toAbsolutePath().normalize();
        String text;
        try {
            if (Files.size(absolute) > MAX_SIZE) {
                throw new ConfigException(file, 0, 0, "the file is over 1 MiB: is this really the configuration?", null);
            }
            text = Files.readString(absolute);
        } catch (IOException e) {
            throw new ConfigException(file, 0, 0, "cannot read the configuration: " + e.getMessage(), e);
        }
        return parse(file, text, absolute.getParent());
    }

    /** Parses configuration text; {@code baseDir} resolves relative paths; {@code file} names the source in errors. */
    public static ServerConfig parse(Path file, String text, Path baseDir) throws ConfigException {
        if (text.isBlank()) {
            throw new ConfigException(file, 1, 1, "the configuration is empty; see config.yaml in the repository for an example", null);
        }
        ObjectMapper mapper = mapper(baseDir);
        JsonNode tree;
        try {
            tree = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            // YAML syntax (and duplicate keys): the parser cannot go on, so nothing after this point is checked
            throw syntax(file, text, e);
        }
        try {
            ServerConfig config = mapper.readValue(text, ServerConfig.class);
            if (config == null) {
                throw new ConfigException(file, 1, 1, "the configuration is empty; see config.yaml in the repository for an example", null);
            }
            return config;
        } catch (JsonProcessingException e) {
            if (!(e instanceof JsonMappingException)) {
                throw syntax(file, text, e);
            }
            List<ConfigException> all = new ArrayList<>();
            try {
                new Collector(mapper, file, text, tree, all).check("", mapper.constructType(ServerConfig.class));
            } catch (IOException | RuntimeException notCollected) {
                // the first problem alone is still right
                all.clear();
            }
            throw all.isEmpty() ? located(file, text, e) : new ConfigException(all);
        }
    }

    private static ConfigException syntax(Path file, String text, JsonProcessingException e) {
        ConfigException first = located(file, text, e);
        ConfigException.Problem p = first.problems().get(0);
        return new ConfigException(file, p.line(), p.column(), p.message()
                + " (checking stops at a YAML syntax error: fix it and check again for any other problems)", e);
    }

    /**
     * Finds every problem of a configuration that Jackson refused at its first: reads each key on its own (from the
     * same text, so lines and columns stay right), descending into the sections and lists that fail. A problem in
     * one section never hides one in another; a check across several keys of a section (or across sections) is
     * reported when the keys it joins are each right. Bounded: at most {@link #MAX_READS} reads of the text and
     * {@link #MAX_PROBLEMS} problems.
     */
    private static final class Collector {
        static final int MAX_READS = 64;
        static final int MAX_PROBLEMS = 50;

        private final ObjectMapper mapper;
        private final Path file;
        private final String text;
        private final JsonNode tree;
        private final List<ConfigException> out;
        private int reads;

        Collector(ObjectMapper mapper, Path file, String text, JsonNode tree, List<ConfigException> out) {
            this.mapper = mapper;
            this.file = file;
            this.text = text;
            this.tree = tree;
            this.out = out;
        }

        void check(String pointer, JavaType type) throws IOException {
            if (out.size() >= MAX_PROBLEMS || reads >= MAX_READS) {
                return;
            }
            if (type.isCollectionLikeType()) {
                // a list is read element by element (Jackson's list reader needs the key it belongs to)
                list(pointer, type, tree.at(pointer));
                return;
            }
            reads++;
            try {
                readAt(pointer, type);
                return;
            } catch (JsonMappingException e) {
                int before = out.size();
                JsonNode node = tree.at(pointer);
                if (reads < MAX_READS && type.isRecordType() && node.isObject()) {
                    fields(pointer, type, node);
                }
                if (out.size() == before) {
                    out.add(located(file, text, prefixed(e, pointer)));
                }
            }
        }

        private void list(String pointer, JavaType type, JsonNode node) throws IOException {
            if (node.isNull() || node.isMissingNode()) {
                return; // a record decides whether it may be absent
            }
            if (!node.isArray()) {
                out.add(at(file, text, pointer, keyOf(pointer) + ": wrong type: expected list"));
                return;
            }
            for (int i = 0; i < node.size(); i++) {
                if (node.get(i).isNull()) {
                    out.add(at(file, text, pointer + "/" + i, keyOf(pointer + "/" + i)
                            + ": an empty entry (~ or null) is not allowed here: write a value or remove the entry"));
                } else {
                    check(pointer + "/" + i, type.getContentType());
                }
            }
        }

        private void fields(String pointer, JavaType type, JsonNode node) throws IOException {
            Map<String, BeanPropertyDefinition> known = new LinkedHashMap<>();
            for (BeanPropertyDefinition d : mapper.getDeserializationConfig().introspect(type).findProperties()) {
                known.put(d.getName(), d);
            }
            String section = keyOf(pointer);
            List<String> failed = new ArrayList<>();
            Iterator<String> names = node.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                String child = pointer + "/" + name.replace("~", "~0").replace("/", "~1");
                BeanPropertyDefinition d = known.get(name);
                int before = out.size();
                if (d == null) {
                    out.add(at(file, text, child, "unknown key '" + name + "'" + " in "
                            + (section.isEmpty() ? "the top level" : section)
                            + ": remove it or check its spelling (known here: " + known.keySet() + ")"));
                } else if (!node.get(name).isNull()) {
                    check(child, d.getPrimaryType());
                }
                if (out.size() > before) {
                    failed.add(name);
                }
            }
            boolean requiredMissing = false;
            for (BeanPropertyDefinition d : known.values()) {
                if (d.isRequired() && !node.has(d.getName())) {
                    requiredMissing = true;
                    out.add(at(file, text, pointer, "missing required key '" + d.getName() + "'"
                            + (section.isEmpty() ? "" : " in " + section) + ": see docs/CONFIGURATION.md"));
                }
            }
            boolean requiredFailed = failed.stream().anyMatch(n -> known.containsKey(n) && known.get(n).isRequired());
            if (!failed.isEmpty() && !requiredMissing && !requiredFailed && reads < MAX_READS) {
                withoutFailed(pointer, type, ((ObjectNode) node).deepCopy().remove(failed),
                        failed.stream().map(n -> keyOf(pointer + "/" + n.replace("~", "~0").replace("/", "~1"))).toList());
            }
        }

        /**
         * The section read again without the keys found wrong (each optional, so its default stands in): the range
         * checks of the record, which read the keys together, then report the keys that are right alone but wrong there.
         */
        private void withoutFailed(String pointer, JavaType type, JsonNode rest, List<String> removed) throws IOException {
            reads++;
            try (JsonParser p = mapper.treeAsTokens(rest)) {
                mapper.readerFor(type).readValue(p);
            } catch (MismatchedInputException e) {
                // a required key that is missing: reported above
            } catch (JsonMappingException e) {
                ConfigException c = located(file, text, prefixed(e, pointer));
                ConfigException.Problem problem = c.problems().get(0);
                if (removed.stream().anyMatch(k -> problem.message().contains(k))) {
                    return; // about a key reported above, now missing
                }
                out.add(problem.line() > 0 ? c : at(file, text, pointer, problem.message()));
            }
        }

        /** The segments of a pointer, each with whether it indexes a list. */
        private List<Object> segments(String pointer) {
            List<Object> out = new ArrayList<>();
            JsonNode node = tree;
            for (JsonPointer p = JsonPointer.compile(pointer); !p.matches(); p = p.tail()) {
                String s = p.getMatchingProperty();
                if (node != null && node.isArray() && p.getMatchingIndex() >= 0) {
                    out.add(p.getMatchingIndex());
                    node = node.get(p.getMatchingIndex());
                } else {
                    out.add(s);
                    node = node == null ? null : node.get(s);
                }
            }
            return out;
        }

        /** The exception of a value read on its own, with the path from the top of the file in front of its own. */
        private JsonMappingException prefixed(JsonMappingException e, String pointer) {
            List<Object> segments = segments(pointer);
            for (int i = segments.size() - 1; i >= 0; i--) {
                if (segments.get(i) instanceof Integer index) {
                    e.prependPath(ServerConfig.class, index);
                } else {
                    e.prependPath(ServerConfig.class, (String) segments.get(i));
                }
            }
            return e;
        }

        /** The dotted key of a pointer, indices in brackets: {@code server.identities[0].bundle}. */
        private String keyOf(String pointer) {
            StringBuilder sb = new StringBuilder();
            for (Object s : segments(pointer)) {
                if (s instanceof Integer) {
                    sb.append('[').append(s).append(']');
                } else {
                    sb.append(sb.length() == 0 ? "" : ".").append(s);
                }
            }
            return sb.toString();
        }

        private Object readAt(String pointer, JavaType type) throws IOException {
            JsonPointer target = JsonPointer.compile(pointer);
            try (JsonParser p = mapper.createParser(text)) {
                JsonToken t;
                while ((t = p.nextToken()) != null) {
                    if (t == JsonToken.FIELD_NAME || t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                        continue;
                    }
                    if (p.getParsingContext().pathAsPointer().equals(target)) {
                        return mapper.readerFor(type).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readValue(p);
                    }
                }
            }
            throw new IllegalStateException("no value at " + pointer);
        }
    }

    private static ConfigException at(Path file, String text, String pointer, String message) {
        int[] lc = locate(text, pointer);
        return new ConfigException(file, lc[0], lc[1], message, null);
    }

    /** A ConfigException at the line and column of a JSON pointer (e.g. {@code /server/identities/0/bundle}). */
    public static ConfigException at(Path file, String pointer, String message, Throwable cause) {
        int[] lc;
        try {
            lc = locate(Files.readString(file), pointer);
        } catch (IOException e) {
            lc = new int[] {0, 0};
        }
        return new ConfigException(file, lc[0], lc[1], message, cause);
    }

    /** Line and column of the value at a JSON pointer in YAML text, or {0, 0}. */
    static int[] locate(String text, String pointer) {
        try {
            JsonPointer target = JsonPointer.compile(pointer);
            try (JsonParser p = new YAMLFactory().createParser(text)) {
                JsonToken t;
                while ((t = p.nextToken()) != null) {
                    if (t == JsonToken.FIELD_NAME) {
                        continue;
                    }
                    if (p.getParsingContext().pathAsPointer().equals(target)) {
                        JsonLocation l = p.currentTokenLocation();
                        return new int[] {l.getLineNr(), l.getColumnNr()};
                    }
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            // Fall through: the message still names the key.
        }
        return new int[] {0, 0};
    }

    private static ConfigException located(Path file, String text, JsonProcessingException e) {
        JsonLocation l = e.getLocation();
        int line = l == null ? 0 : l.getLineNr();
        int column = l == null ? 0 : l.getColumnNr();
        String key = e instanceof JsonMappingException m ? keyOf(m) : "";
        // Jackson reports record-level checks at the end of the section and unknown keys after them:
        // where the exception names a key, point at that key instead.
        String pointer = null;
        if (e instanceof UnrecognizedPropertyException || e instanceof IgnoredPropertyException) {
            pointer = pointerOf((JsonMappingException) e);
        } else if (e.getCause() instanceof InvalidValueException iv) {
            pointer = iv.pointer();
        } else if (e instanceof ValueInstantiationException v) {
            pointer = pointerOf(v);
            if (v.getCause() instanceof NullPointerException npe && npe.getMessage() != null) {
                // a record refused a key written with no value (`server: ~`): point at that key
                pointer = pointer + "/" + npe.getMessage();
            }
        }
        if (pointer != null) {
            int[] lc = locate(text, pointer);
            if (lc[0] > 0) {
                line = lc[0];
                column = lc[1];
            }
        }
        String message;
        if (e instanceof UnrecognizedPropertyException u) {
            message = "unknown key '" + u.getPropertyName() + "'" + (key.isEmpty() ? "" : " in " + parentOf(key))
                    + ": remove it or check its spelling (known here: " + u.getKnownPropertyIds() + ")";
        } else if (e instanceof IgnoredPropertyException u) {
            message = "key '" + u.getPropertyName() + "' is not allowed here";
        } else if (e instanceof ValueInstantiationException v && v.getCause() instanceof NullPointerException npe) {
            String missing = npe.getMessage() == null ? "" : npe.getMessage();
            String full = key.isEmpty() ? missing : missing.isEmpty() ? key : key + "." + missing;
            message = (full.isEmpty() ? "a required key" : "'" + full + "'")
                    + " has no value (empty, ~ or null): give it one, see docs/CONFIGURATION.md";
        } else if (e instanceof ValueInstantiationException v) {
            Throwable cause = v.getCause() != null ? v.getCause() : v;
            message = (key.isEmpty() || cause instanceof InvalidValueException ? "" : key + ": ") + cause.getMessage();
        } else if (e instanceof InvalidFormatException f) {
            message = key + ": '" + f.getValue() + "' is not a valid " + simpleType(f.getTargetType()) + hint(f);
        } else if (e instanceof InvalidNullException) {
            message = (key.isEmpty() ? "" : key + ": ")
                    + "an empty entry (~ or null) is not allowed here: write a value or remove the entry";
        } else if (e instanceof MismatchedInputException m) {
            String original = m.getOriginalMessage();
            if (original != null && original.startsWith("Missing required creator property")) {
                message = "missing required key " + original.replaceAll(".*'([^']+)'.*", "'$1'")
                        + (key.isEmpty() ? "" : " in " + key) + ": see docs/CONFIGURATION.md";
            } else {
                message = (key.isEmpty() ? "" : key + ": ") + "wrong type: expected " + simpleType(m.getTargetType())
                        + hint(m);
            }
        } else if (e instanceof JsonMappingException m && m.getCause() instanceof IllegalArgumentException iae) {
            message = (key.isEmpty() ? "" : key + ": ") + iae.getMessage();
        } else {
            message = "not valid YAML: " + e.getOriginalMessage();
        }
        return new ConfigException(file, line, column, message, e);
    }

    private static String hint(MismatchedInputException e) {
        Class<?> t = e.getTargetType();
        if (t == null) {
            return "";
        }
        if (t == Duration.class) {
            return " (write a duration such as 30s, 15m or 1h)";
        }
        if (t.isEnum()) {
            StringBuilder values = new StringBuilder();
            for (Object c : t.getEnumConstants()) {
                try {
                    var f = t.getField(((Enum<?>) c).name());
                    var jp = f.getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class);
                    values.append(values.length() == 0 ? "" : ", ").append(jp != null ? jp.value() : c.toString());
                } catch (NoSuchFieldException ex) {
                    values.append(c);
                }
            }
            return " (one of: " + values + ")";
        }
        return "";
    }

    private static String simpleType(Class<?> t) {
        if (t == null) {
            return "value";
        }
        if (t == Integer.class || t == int.class) {
            return "whole number";
        }
        if (t == PortGrant.class) {
            return "port grant (tcp/22 or udp/8000-8100)";
        }
        if (t == Duration.class) {
            return "duration";
        }
        if (t.isEnum()) {
            return "choice";
        }
        if (java.util.List.class.isAssignableFrom(t)) {
            return "list";
        }
        if (t.isRecord()) {
            return "section (a mapping of keys)";
        }
        return t.getSimpleName().toLowerCase(Locale.ROOT);
    }

    private static String keyOf(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String pointerOf(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            sb.append('/').append(r.getFieldName() != null ? r.getFieldName() : Integer.toString(r.getIndex()));
        }
        return sb.toString();
    }

    private static String parentOf(String key) {
        int dot = key.lastIndexOf('.');
        return dot < 0 ? "the top level" : key.substring(0, dot);
    }

    private static ObjectMapper mapper(Path baseDir) {
        SimpleModule module = new SimpleModule("certknock-config");
        module.addDeserializer(Duration.class, new JsonDeserializer<>() {
            @Override
            public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                String text = p.getValueAsString();
                Matcher m = text == null ? null : DURATION.matcher(text.trim());
                if (m == null || !m.matches()) {
                    throw InvalidFormatException.from(p, "bad duration", p.getText(), Duration.class);
                }
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
        });
        module.addDeserializer(PortGrant.class, new JsonDeserializer<>() {
            @Override
            public PortGrant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                if (p.currentToken() != JsonToken.VALUE_STRING) {
                    throw MismatchedInputException.from(p, PortGrant.class, "expected a port grant");
                }
                try {
                    return PortGrant.parse(p.getText());
                } catch (IllegalArgumentException e) {
                    throw JsonMappingException.from(p, e.getMessage(), e);
                }
            }
        });
        module.addDeserializer(Path.class, new JsonDeserializer<>() {
            @Override
            public Path deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                if (p.currentToken() != JsonToken.VALUE_STRING || p.getText().isBlank()) {
                    throw MismatchedInputException.from(p, Path.class, "expected a file path");
                }
                Path path = Path.of(p.getText());
                return (path.isAbsolute() || baseDir == null ? path : baseDir.resolve(path)).normalize();
            }
        });
        return YAMLMapper.builder()
                .addModule(module)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                // `protect: [~]`: refused where the ~ is, not as a bare NullPointerException from List.copyOf
                .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
                .build();
    }

}
