package dev.certknock.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.ca.CaException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write that fails midway leaves the previous content readable and no temporary file behind. */
class AtomicFilesTest {

    @TempDir
    Path tmp;

    @Test
    void aFailedWriteLeavesThePreviousContent() throws Exception {
        Path target = tmp.resolve("db.json");
        AtomicFiles.write(target, "{\"old\":true}".getBytes(), AtomicFiles.PUBLIC);
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write("{\"new\":tr".getBytes());
            out.flush();
            throw new IOException("disk full (simulated)");
        }, AtomicFiles.PUBLIC)).isInstanceOf(CaException.class).hasMessageContaining("previous content, if any, is unchanged");
        assertThat(Files.readString(target)).isEqualTo("{\"old\":true}");
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("db.json");
        }
    }

    @Test
    void secretFilesAre0600AndPublicOnes0644() throws Exception {
        AtomicFiles.write(tmp.resolve("k"), new byte[] {1}, AtomicFiles.SECRET);
        AtomicFiles.write(tmp.resolve("c"), new byte[] {1}, AtomicFiles.PUBLIC);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("k")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("c")))).isEqualTo("rw-r--r--");
    }

    @Test
    void writeNewRefusesAnExistingFile() throws Exception {
        Files.writeString(tmp.resolve("x"), "keep");
        assertThatThrownBy(() -> AtomicFiles.writeNew(tmp.resolve("x"), new byte[] {1}, AtomicFiles.SECRET))
                .hasMessageContaining("already exists");
        assertThat(Files.readString(tmp.resolve("x"))).isEqualTo("keep");
    }
}
