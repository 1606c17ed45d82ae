package dev.certknock.server.firewall.command;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.certknock.io.AtomicFile;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.Holder;
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
import javax.security.auth.x500.X500Principal;

/**
 * The open grants of the {@code command} backend on disk: one JSON document, replaced atomically
 * ({@link AtomicFile#replace}: a temporary file in the same directory, forced to disk, renamed over the old one,
 * directory forced), so that a crash leaves either the old or the new list, never a torn one. Readable by the owner
 * only: it names addresses and certificate subjects.
 */
final class CommandState {

    static final int VERSION = 2;

    /** One address and port range, and the grant it belongs to. */
    record Element(InetAddress address, PortGrant grant) {
        /** {@code 192.0.2.1 tcp/22}: the Quartz trigger name and log text. */
        String key() {
            return address.getHostAddress() + " " + grant;
        }
    }

    /** On-disk form of one element (strings and numbers only). */
    record Entry(@JsonProperty("address") String address, @JsonProperty("grant") String grant,
            @JsonProperty("grants") List<String> grants, @JsonProperty("openedAt") String openedAt,
            @JsonProperty("durationMillis") long durationMillis, @JsonProperty("subject") String subject,
            @JsonProperty("issuer") String issuer, @JsonProperty("serial") String serial,
            @JsonProperty("path") List<String> path) {
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
    Map<Element, GrantDecision> load() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new LinkedHashMap<>();
        }
        Map<Element, GrantDecision> out = new LinkedHashMap<>();
        try {
            Document doc = JSON.readValue(bytes, Document.class);
            if (doc.version() != VERSION && doc.version() != 1) {
                throw new IOException("unknown version " + doc.version() + " (this server writes " + VERSION + ")");
            }
            for (Entry e : doc.open() == null ? List.<Entry>of() : doc.open()) {
                List<PortGrant> grants = e.grants().stream().map(PortGrant::parse).toList();
                InetAddress address = InetAddress.getByName(literal(e.address()));
                GrantDecision d = new GrantDecision(address, grants, Duration.ofMillis(e.durationMillis()),
                        Instant.parse(e.openedAt()), new Holder(new X500Principal(e.subject()),
                                new X500Principal(e.issuer()), path(e)));
                out.put(new Element(address, PortGrant.parse(e.grant())), d);
            }
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot read the open-grant state " + file + ": " + e.getMessage()
                    + " (it lists grants whose close command may still have to run; fix or remove it)", e);
        }
        return out;
    }

    /**
     * The holder's path: {@code <CA key id>:<serial hex>} per certificate, leaf first. A version 1 file has none:
     * its leaf is recorded under a CA key id of zeros, which no CRL names, so those grants close at their expiry
     * (never later) but a revocation does not find them.
     */
    private static List<CertRef> path(Entry e) {
        if (e.path() == null || e.path().isEmpty()) {
            return List.of(new CertRef("0".repeat(32), new BigInteger(e.serial(), 16)));
        }
        List<CertRef> path = new ArrayList<>();
        for (String ref : e.path()) {
            int colon = ref.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("not a certificate reference: " + ref);
            }
            path.add(new CertRef(ref.substring(0, colon), new BigInteger(ref.substring(colon + 1), 16)));
        }
        return path;
    }

    /** An IP literal only: never let a stored string trigger a DNS lookup. */
    private static String literal(String text) {
        if (text == null || !text.matches("[0-9a-fA-F.:]{2,45}")) {
            throw new IllegalArgumentException("not an IP address literal: " + text);
        }
        return text;
    }

    /** Replaces the file with these elements. */
    void save(Map<Element, GrantDecision> open) throws IOException {
        List<Entry> entries = new ArrayList<>(open.size());
        open.forEach((e, d) -> entries.add(new Entry(e.address().getHostAddress(), e.grant().toString(),
                d.grants().stream().map(PortGrant::toString).toList(), d.openedAt().toString(),
                d.duration().toMillis(), d.subject().getName(), d.issuer().getName(), d.serial().toString(16),
                d.holder().path().stream().map(r -> r.issuerKeyId() + ":" + r.serial().toString(16)).toList())));
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
