package dev.certknock.server.firewall.command;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.certknock.io.AtomicFile;
import dev.certknock.protocol.grant.AddressText;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.grant.GrantElement;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The open elements of the {@code command} backend on disk: one JSON document, replaced atomically
 * ({@link AtomicFile#replace}: a temporary file in the same directory, forced to disk, renamed over the old one,
 * directory forced), so that a crash leaves either the old or the new list, never a torn one. Readable by the owner
 * only: it names addresses. Version 1 files (written before the grant ledger) are read too; their elements carry no
 * holder tags, so they close at their expiry but a revocation does not find them.
 */
final class CommandState {

    static final int VERSION = 2;

    /**
     * One open element as the close command needs it.
     *
     * @param until    when it closes
     * @param duration the grant's nominal duration (the {@code {seconds}} placeholder)
     * @param serial   the certificate serial of the grant that opened it (the {@code {serial}} placeholder)
     * @param comment  the holder tags of the ledger, or null (version 1 files)
     */
    record Recorded(Instant until, Duration duration, BigInteger serial, String comment) {
    }

    /** On-disk form of one element (strings and numbers only). Version 1 used openedAt and no until. */
    record Entry(@JsonProperty("address") String address, @JsonProperty("grant") String grant,
            @JsonProperty("until") String until, @JsonProperty("openedAt") String openedAt,
            @JsonProperty("durationMillis") long durationMillis, @JsonProperty("serial") String serial,
            @JsonProperty("comment") String comment) {
    }

    record Document(@JsonProperty("version") int version, @JsonProperty("open") List<Entry> open) {
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path file;

    CommandState(Path file) {
        this.file = file.toAbsolutePath();
    }

    Path file() {
        return file;
    }

    /** The recorded elements, in file order; empty when there is no file yet. */
    Map<GrantElement, Recorded> load() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new LinkedHashMap<>();
        } catch (IOException e) {
            throw new IOException("cannot read the open-grant state " + file + ": " + e.getMessage()
                    + " (it lists grants whose close command may still have to run; fix or remove it)", e);
        }
        Map<GrantElement, Recorded> out = new LinkedHashMap<>();
        try {
            Document doc = JSON.readValue(bytes, Document.class);
            if (doc.version() != VERSION && doc.version() != 1) {
                throw new IOException("unknown version " + doc.version() + " (this server writes " + VERSION + ")");
            }
            for (Entry e : doc.open() == null ? List.<Entry>of() : doc.open()) {
                InetAddress address = InetAddress.getByName(literal(e.address()));
                Duration duration = Duration.ofMillis(e.durationMillis());
                Instant until = e.until() != null ? Instant.parse(e.until()) : Instant.parse(e.openedAt()).plus(duration);
                out.put(new GrantElement(address, PortGrant.parse(e.grant())),
                        new Recorded(until, duration, new BigInteger(e.serial(), 16), e.comment()));
            }
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot read the open-grant state " + file + ": " + e.getMessage()
                    + " (it lists grants whose close command may still have to run; fix or remove it)", e);
        }
        return out;
    }

    /**
     * An IP literal only: never let a stored string trigger a DNS lookup. A dotted quad, or text with a colon (which
     * {@link InetAddress#getByName} parses as an IPv6 literal, never a name); {@code cafe} or {@code 1.2.3.4.5} would
     * be names.
     */
    private static String literal(String text) {
        if (text == null || !(text.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")
                || text.contains(":") && text.matches("[0-9a-fA-F.:]{2,45}"))) {
            throw new IllegalArgumentException("not an IP address literal: " + text);
        }
        return text;
    }

    /** Replaces the file with these elements. */
    void save(Map<GrantElement, Recorded> open) throws IOException {
        List<Entry> entries = new ArrayList<>(open.size());
        open.forEach((e, r) -> entries.add(new Entry(AddressText.format(e.address()), e.ports().toString(),
                r.until().toString(), null, r.duration().toMillis(), r.serial().toString(16), r.comment())));
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(new Document(VERSION, entries));
        Path dir = file.getParent();
        Files.createDirectories(dir);
        try {
            AtomicFile.replace(file, bytes, AtomicFile.Mode.exactly(AtomicFile.OWNER_ONLY));
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the state directory " + dir + " does not support atomic renames", e);
        }
    }
}
