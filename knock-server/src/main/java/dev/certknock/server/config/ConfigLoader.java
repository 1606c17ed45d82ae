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
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
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
        try {
            ServerConfig config = mapper.readValue(text, ServerConfig.class);
            if (config == null) {
                throw new ConfigException(file, 1, 1, "the configuration is empty; see config.yaml in the repository for an example", null);
            }
            return config;
        } catch (JsonProcessingException e) {
            throw located(file, text, e);
        }
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
