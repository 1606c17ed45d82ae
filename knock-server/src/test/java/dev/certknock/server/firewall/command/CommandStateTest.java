package dev.certknock.server.firewall.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.firewall.command.CommandState.Recorded;
import dev.certknock.server.grant.GrantElement;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command backend's state file on its own: format, atomic owner-only replacement, old versions, bad input. */
class CommandStateTest {

    private static final String ALICE_TAGS = "ck1 0123456789abcdef fedcba9876543210";

    @TempDir
    Path dir;

    private static GrantElement element(String address, String grant) throws IOException {
        return new GrantElement(InetAddress.getByName(address), PortGrant.parse(grant));
    }

    /** Two IPv4 elements (one of them a range) and an IPv6 one, one without holder tags. */
    private static Map<GrantElement, Recorded> sample() throws IOException {
        Map<GrantElement, Recorded> open = new LinkedHashMap<>();
        open.put(element("192.0.2.7", "tcp/22"), new Recorded(Instant.parse("2026-01-01T00:00:30.123Z"),
                Duration.ofSeconds(30), BigInteger.TEN, ALICE_TAGS));
        open.put(element("192.0.2.7", "udp/8000-8100"), new Recorded(Instant.parse("2026-01-01T00:00:30.123Z"),
                Duration.ofMillis(30_500), new BigInteger("123456789abcdef0123456789", 16), ALICE_TAGS));
        open.put(element("2001:db8::5", "tcp/443"), new Recorded(Instant.parse("2026-01-01T00:10:00Z"),
                Duration.ofMinutes(10), BigInteger.ONE, null));
        return open;
    }

    private Path file() {
        return dir.resolve("state/open-grants.json");
    }

    private Path write(String json) throws IOException {
        Path file = file();
        Files.createDirectories(file.getParent());
        Files.writeString(file, json);
        return file;
    }

    @Test
    void noFileYetIsAnEmptyState() throws IOException {
        assertThat(new CommandState(file()).load()).isEmpty();
        assertThat(file()).doesNotExist();
    }

    @Test
    void roundTripKeepsEveryFieldAndTheOrder() throws IOException {
        CommandState state = new CommandState(file());
        state.save(sample());

        Map<GrantElement, Recorded> back = new CommandState(file()).load();
        assertThat(back).containsExactlyEntriesOf(sample());
        String json = Files.readString(file());
        assertThat(json).contains("\"version\" : 2").contains("\"until\" : \"2026-01-01T00:00:30.123Z\"")
                .contains("\"comment\" : \"" + ALICE_TAGS + "\"").contains("\"serial\" : \"a\"")
                // RFC 5952 text, as the kernel backends print it
                .contains("\"address\" : \"2001:db8::5\"").doesNotContain("\"openedAt\" : \"");
    }

    @Test
    void savingAnEmptyStateLeavesAnEmptyList() throws IOException {
        CommandState state = new CommandState(file());
        state.save(sample());
        state.save(new LinkedHashMap<>());
        assertThat(state.load()).isEmpty();
        assertThat(Files.readString(file())).doesNotContain("192.0.2.7");
    }

    @Test
    void fileIsOwnerOnlyAndReplacedByRenameNeverRewrittenInPlace() throws IOException {
        CommandState state = new CommandState(file());
        state.save(sample());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file()))).isEqualTo("rw-------");
        String first = Files.readString(file());

        // a second name for the first version's inode: a save that wrote in place would change it too
        Path observer = dir.resolve("observer");
        Files.createLink(observer, file());
        Map<GrantElement, Recorded> less = sample();
        less.remove(element("192.0.2.7", "tcp/22"));
        state.save(less);

        assertThat(observer).hasContent(first);
        assertThat(state.load()).containsExactlyEntriesOf(less);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file()))).isEqualTo("rw-------");
        try (Stream<Path> files = Files.list(file().getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("open-grants.json");
        }
    }

    @Test
    void ownerOnlyEvenWhenTheOldFileWasWorldReadable() throws IOException {
        Path file = write("{\"version\": 2, \"open\": []}");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        new CommandState(file).save(sample());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void savingNeverWritesThroughAFileLyingAtAPredictableTemporaryName() throws IOException {
        Path file = dir.resolve("open-grants.json");
        Path victim = dir.resolve("victim");
        Files.writeString(victim, "not yours");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
        // the name an earlier version reused for every save, opened with CREATE and TRUNCATE_EXISTING
        Files.createSymbolicLink(dir.resolve(".open-grants.json.tmp"), victim);

        CommandState state = new CommandState(file);
        state.save(sample());

        assertThat(victim).hasContent("not yours");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(victim))).isEqualTo("rw-r--r--");
        assertThat(state.load()).containsExactlyEntriesOf(sample());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void relativePathIsMadeAbsolute() {
        assertThat(new CommandState(Path.of("relative/open-grants.json")).file())
                .isEqualTo(Path.of("relative/open-grants.json").toAbsolutePath());
    }

    /** What {@code CommandFirewall} wrote before the grant ledger (a47c0ed), field for field. */
    @Test
    void versionOneFileIsReadWithItsExpiryFromOpenedAtAndDuration() throws IOException {
        write("""
                {
                  "version" : 1,
                  "open" : [ {
                    "address" : "203.0.113.9",
                    "grant" : "tcp/8000-8010",
                    "grants" : [ "tcp/8000-8010", "udp/53" ],
                    "openedAt" : "2020-01-01T00:00:00Z",
                    "durationMillis" : 30000,
                    "subject" : "CN=carol",
                    "issuer" : "CN=test CA",
                    "serial" : "1f"
                  }, {
                    "address" : "203.0.113.9",
                    "grant" : "udp/53",
                    "grants" : [ "tcp/8000-8010", "udp/53" ],
                    "openedAt" : "2020-01-01T00:00:00Z",
                    "durationMillis" : 30000,
                    "subject" : "CN=carol",
                    "issuer" : "CN=test CA",
                    "serial" : "1f"
                  }, {
                    "address" : "2001:db8:0:0:0:0:0:5",
                    "grant" : "tcp/443",
                    "grants" : [ "tcp/443" ],
                    "openedAt" : "2020-01-01T00:00:00.250Z",
                    "durationMillis" : 1500,
                    "subject" : "CN=dave, O=Example",
                    "issuer" : "CN=test CA",
                    "serial" : "0"
                  } ]
                }
                """);
        Map<GrantElement, Recorded> loaded = new CommandState(file()).load();

        Recorded carol = new Recorded(Instant.parse("2020-01-01T00:00:30Z"), Duration.ofSeconds(30),
                BigInteger.valueOf(0x1f), null);
        assertThat(loaded).containsExactly(
                Map.entry(element("203.0.113.9", "tcp/8000-8010"), carol),
                Map.entry(element("203.0.113.9", "udp/53"), carol),
                Map.entry(element("2001:db8::5", "tcp/443"), new Recorded(Instant.parse("2020-01-01T00:00:01.750Z"),
                        Duration.ofMillis(1500), BigInteger.ZERO, null)));
    }

    @Test
    void versionOneFileIsRewrittenAsVersionTwo() throws IOException {
        write("""
                {"version": 1, "open": [
                  {"address": "203.0.113.9", "grant": "tcp/22", "grants": ["tcp/22"],
                   "openedAt": "2020-01-01T00:00:00Z", "durationMillis": 30000,
                   "subject": "CN=carol", "issuer": "CN=test CA", "serial": "1f"}]}
                """);
        CommandState state = new CommandState(file());
        Map<GrantElement, Recorded> loaded = state.load();
        state.save(loaded);
        assertThat(Files.readString(file())).contains("\"version\" : 2").doesNotContain("CN=carol")
                .doesNotContain("\"openedAt\" : \"").contains("\"until\" : \"2020-01-01T00:00:30Z\"");
        assertThat(state.load()).containsExactlyEntriesOf(loaded);
    }

    @Test
    void unknownVersionIsRefusedNamingTheFile() throws IOException {
        Path file = write("{\"version\": 3, \"open\": []}");
        assertThatThrownBy(() -> new CommandState(file).load()).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("unknown version 3")
                .hasMessageContaining("fix or remove it");
        Path none = write("{\"open\": []}");
        assertThatThrownBy(() -> new CommandState(none).load()).isInstanceOf(IOException.class)
                .hasMessageContaining(none.toString()).hasMessageContaining("unknown version 0");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"version\": 2, \"open\": [{\"address\": \"192.0.2.1\"",
        "not json at all",
        "",
        "[]",
        "{\"version\": 2, \"open\": [{\"address\": \"192.0.2.1\", \"grant\": \"tcp/99999\", \"until\": "
                + "\"2026-01-01T00:00:00Z\", \"durationMillis\": 1, \"serial\": \"1\"}]}",
        "{\"version\": 2, \"open\": [{\"address\": \"192.0.2.1\", \"grant\": \"tcp/22\", \"until\": "
                + "\"yesterday\", \"durationMillis\": 1, \"serial\": \"1\"}]}",
        "{\"version\": 2, \"open\": [{\"address\": \"192.0.2.1\", \"grant\": \"tcp/22\", \"until\": "
                + "\"2026-01-01T00:00:00Z\", \"durationMillis\": 1, \"serial\": \"xyz\"}]}",
        "{\"version\": 2, \"open\": [{\"address\": \"192.0.2.1\", \"grant\": \"tcp/22\", \"until\": "
                + "\"2026-01-01T00:00:00Z\", \"durationMillis\": 1}]}",
        "{\"version\": 1, \"open\": [{\"address\": \"192.0.2.1\", \"grant\": \"tcp/22\", "
                + "\"durationMillis\": 1, \"serial\": \"1\"}]}",
    })
    void unreadableFileGivesAnIoExceptionNamingTheFile(String content) throws IOException {
        Path file = write(content);
        assertThatThrownBy(() -> new CommandState(file).load()).isInstanceOf(IOException.class)
                .hasMessageContaining("cannot read the open-grant state " + file)
                .hasMessageContaining("fix or remove it");
    }

    @Test
    void binaryGarbageGivesAnIoExceptionNamingTheFile() throws IOException {
        Path file = file();
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, '{'});
        assertThatThrownBy(() -> new CommandState(file).load()).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString());
    }

    /**
     * Only parse errors are wrapped with the file's name; a read error (here EISDIR; EIO, a stale NFS handle)
     * reaches the operator as the bare "Is a directory", via {@code CommandWriter.setUp} and the server's start.
     */
    @Test
    void aDirectoryInPlaceOfTheFileGivesAnIoExceptionNamingIt() throws IOException {
        Files.createDirectories(file());
        assertThatThrownBy(() -> new CommandState(file()).load()).isInstanceOf(IOException.class)
                .hasMessageContaining(file().toString());
    }

    private static String withAddress(String address) {
        return "{\"version\": 2, \"open\": [{\"address\": \"" + address + "\", \"grant\": \"tcp/22\", \"until\": "
                + "\"2026-01-01T00:00:00Z\", \"durationMillis\": 1000, \"serial\": \"1\", \"comment\": null}]}";
    }

    /** Names with characters a literal never has are refused before any resolver is asked. */
    @ParameterizedTest
    @ValueSource(strings = {"evil.example", "localhost", "192.0.2.1%eth0", "fe80::1%1", " 192.0.2.1", "192.0.2.1/32"})
    void addressThatIsNoLiteralIsRefused(String address) throws IOException {
        Path file = write(withAddress(address.replace("\\", "\\\\")));
        assertThatThrownBy(() -> new CommandState(file).load()).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("not an IP address literal");
    }

    @Test
    void nullAddressIsRefused() throws IOException {
        Path file = write("{\"version\": 2, \"open\": [{\"grant\": \"tcp/22\", \"until\": \"2026-01-01T00:00:00Z\", "
                + "\"durationMillis\": 1000, \"serial\": \"1\"}]}");
        assertThatThrownBy(() -> new CommandState(file).load()).isInstanceOf(IOException.class)
                .hasMessageContaining("not an IP address literal: null");
    }

    /**
     * Host names made only of hex digits and dots pass the character check in {@code CommandState.literal}, and
     * {@code InetAddress.getByName} then asks the resolver (strace shows a UDP connect to port 53 for each of
     * these). Expected: refused as no literal without a look-up.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cafe", "dead.beef", "1.2.3.4.5", "ab"})
    void hexLookingHostNameIsRefusedWithoutALookUp(String address) throws IOException {
        Path file = write(withAddress(address));
        assertThatThrownBy(() -> new CommandState(file).load()).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("not an IP address literal");
    }

    @Test
    void literalsOfBothFamiliesAreRead() throws IOException {
        for (String address : List.of("192.0.2.1", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::ffff:192.0.2.1", "::1")) {
            Path file = write(withAddress(address));
            Map<GrantElement, Recorded> loaded = new CommandState(file).load();
            assertThat(loaded.keySet()).extracting(GrantElement::address)
                    .containsExactly(InetAddress.getByName(address));
        }
    }

    @Test
    void stateWrittenOnDiskIsPlainUtf8Json() throws IOException {
        new CommandState(file()).save(sample());
        byte[] bytes = Files.readAllBytes(file());
        assertThat(new String(bytes, StandardCharsets.UTF_8)).startsWith("{").contains("\"open\" : [");
    }
}
