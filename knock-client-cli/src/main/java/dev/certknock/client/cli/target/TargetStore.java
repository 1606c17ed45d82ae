package dev.certknock.client.cli.target;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
    private final ObjectMapper mapper;

    public TargetStore(Path file) {
        this.file = file.toAbsolutePath();
        this.mapper = new ObjectMapper(YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .build())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** The file {@code --targets}, or else $CERTKNOCK_TARGETS, or else ~/.config/certknock/targets.yaml names. */
    public static Path locate(Path option, java.util.function.Function<String, String> env, Path home) {
        if (option != null) {
            return option;
        }
        String fromEnv = env.apply(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        return home.resolve(".config").resolve("certknock").resolve("targets.yaml");
    }

    public Path file() {
        return file;
    }

    /** All targets, sorted by name; empty when the file does not exist. */
    public Map<String, TargetEntry> load() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return new TreeMap<>();
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot read targets file " + file + ": " + e.getMessage(), e);
        }
        if (text.isBlank()) {
            return new TreeMap<>();
        }
        try {
            Document d = mapper.readValue(text, Document.class);
            Map<String, TargetEntry> all = new TreeMap<>();
            if (d != null && d.targets() != null) {
                for (Map.Entry<String, TargetEntry> e : d.targets().entrySet()) {
                    if (e.getValue() == null || e.getValue().host() == null) {
                        throw new UserException(ExitCodes.BAD_INPUT, "targets file " + file + ": target '" + e.getKey()
                                + "' has no host");
                    }
                    all.put(e.getKey(), e.getValue());
                }
            }
            return all;
        } catch (JacksonException e) {
            throw new UserException(ExitCodes.BAD_INPUT, "targets file " + file + " is not valid: "
                    + e.getOriginalMessage(), e);
        }
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

    private void write(Map<String, TargetEntry> all) {
        try {
            Path dir = file.getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            try {
                Files.writeString(tmp, "# certknock targets: knock NAME sends a knock to a target below.\n"
                        + mapper.writeValueAsString(new Document(all)), StandardCharsets.UTF_8);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot write targets file " + file + ": " + e.getMessage(), e);
        }
    }
}
