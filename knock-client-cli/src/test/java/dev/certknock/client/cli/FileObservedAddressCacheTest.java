package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.client.knock.ObservedAddressCache;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The address cache file on its own: location, bound, permissions, what it does with a bad file. */
class FileObservedAddressCacheTest {

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();
    private final Clock clock = Clock.fixed(Instant.parse("2026-12-05T10:15:30Z"), ZoneOffset.UTC);

    private static ObservedAddressCache.Key key(int i) throws Exception {
        return new ObservedAddressCache.Key("gw" + i + ".example.test", 62201, InetAddress.getByName("192.168.1.20"));
    }

    @Test
    void keepsAtMost64EntriesOldestOutWithOwnerOnlyPermissions() throws Exception {
        Path file = dir.resolve("new").resolve("dir").resolve("observed-addresses.json");
        FileObservedAddressCache cache = new FileObservedAddressCache(file, clock, warnings::add);
        InetAddress seen = InetAddress.getByName("203.0.113.5");
        for (int i = 0; i < 70; i++) {
            cache.remember(key(i), seen);
        }
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(file.getParent())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        FileObservedAddressCache again = new FileObservedAddressCache(file, clock, warnings::add);
        assertThat(again.find(key(0))).isEmpty();
        assertThat(again.find(key(5))).isEmpty();
        assertThat(again.find(key(6))).contains(seen);
        assertThat(again.find(key(69))).contains(seen);
        assertThat(Files.readString(file)).contains("\"learned\" : \"2026-12-05T10:15:30Z\"");
        assertThat(Files.readString(file).split("\"host\"", -1)).hasSize(FileObservedAddressCache.MAX_ENTRIES + 1);
        again.forget(key(69));
        assertThat(cache.find(key(69))).isEmpty();
        assertThat(warnings).isEmpty();
        try (var listing = Files.list(file.getParent())) {
            assertThat(listing).containsExactly(file); // no temporary file left
        }
    }

    @Test
    void anInvalidFileWarnsOnceAndIsRewrittenEmpty() throws Exception {
        Path file = Files.writeString(dir.resolve("cache.json"), "[1, 2");
        FileObservedAddressCache cache = new FileObservedAddressCache(file, clock, warnings::add);
        assertThat(cache.find(key(1))).isEmpty();
        assertThat(cache.find(key(1))).isEmpty();
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0)).startsWith("the address cache " + file + " is not valid (")
                .doesNotContain("\n");
        assertThat(Files.readString(file)).contains("\"version\" : 1").contains("\"entries\" : [ ]");
        Files.writeString(file, "{\"version\":2,\"entries\":[]}");
        List<String> more = new ArrayList<>();
        new FileObservedAddressCache(file, clock, more::add).find(key(1));
        assertThat(more).singleElement().asString().contains("format version 2, not 1");
    }

    @Test
    void anUnwritableLocationOnlyWarns() throws Exception {
        Path blocker = Files.writeString(dir.resolve("not-a-dir"), "x");
        FileObservedAddressCache cache = new FileObservedAddressCache(blocker.resolve("cache.json"), clock, warnings::add);
        cache.remember(key(1), InetAddress.getByName("203.0.113.5"));
        // one line, whether reading or writing fails first
        assertThat(warnings).singleElement().asString().startsWith("cannot ").contains(" the address cache ");
    }

    @Test
    void theLocationFollowsTheOptionThenXdgThenHome() {
        Path home = Path.of("/home/alice");
        assertThat(FileObservedAddressCache.locate(Path.of("/x/c.json"), Map.of("XDG_CACHE_HOME", "/xdg")::get, home))
                .isEqualTo(Path.of("/x/c.json"));
        assertThat(FileObservedAddressCache.locate(null, Map.of("XDG_CACHE_HOME", "/xdg")::get, home))
                .isEqualTo(Path.of("/xdg/certknock/observed-addresses.json"));
        assertThat(FileObservedAddressCache.locate(null, Map.of("XDG_CACHE_HOME", "relative")::get, home))
                .isEqualTo(Path.of("/home/alice/.cache/certknock/observed-addresses.json"));
        assertThat(FileObservedAddressCache.locate(null, Map.<String, String>of()::get, home))
                .isEqualTo(Path.of("/home/alice/.cache/certknock/observed-addresses.json"));
    }
}
