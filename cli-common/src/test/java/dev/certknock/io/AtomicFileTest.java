package dev.certknock.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private String[] names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }

    @Test
    void replaceWritesTheContentWithTheGivenPermissions() throws IOException {
        Path target = dir.resolve("state.json");
        AtomicFile.replace(target, bytes("one"), AtomicFile.Mode.exactly(AtomicFile.OWNER_ONLY));
        assertThat(target).hasContent("one");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-------");
        AtomicFile.replace(target, bytes("two"), AtomicFile.Mode.exactly(AtomicFile.WORLD_READABLE));
        assertThat(target).hasContent("two");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");
        assertThat(names()).containsExactly("state.json");
    }

    @Test
    void aFailureJustBeforeTheRenameLeavesTheOldContentAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("crl.der");
        AtomicFile.replace(target, bytes("old"), AtomicFile.Mode.exactly(AtomicFile.WORLD_READABLE));
        Path[] seen = new Path[1];
        assertThatThrownBy(() -> AtomicFile.replace(target, out -> out.write(bytes("new, complete")),
                AtomicFile.Mode.exactly(AtomicFile.WORLD_READABLE), temporary -> {
                    seen[0] = temporary;
                    assertThat(temporary).hasContent("new, complete");
                    assertThat(temporary.getParent()).isEqualTo(dir.toAbsolutePath());
                    assertThat(AtomicFile.isTemporaryFor(temporary, "crl.der")).isTrue();
                    throw new IOException("disk pulled out");
                })).isInstanceOf(IOException.class).hasMessage("disk pulled out");
        assertThat(target).hasContent("old");
        assertThat(seen[0]).doesNotExist();
        assertThat(names()).containsExactly("crl.der");
    }

    @Test
    void aFailureWhileWritingLeavesTheOldContentAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("db.json");
        AtomicFile.replace(target, bytes("old"), AtomicFile.Mode.exactly(AtomicFile.WORLD_READABLE));
        assertThatThrownBy(() -> AtomicFile.replace(target, out -> {
            out.write(bytes("half"));
            throw new IllegalStateException("writer failed");
        }, AtomicFile.Mode.exactly(AtomicFile.WORLD_READABLE))).hasMessage("writer failed");
        assertThat(target).hasContent("old");
        assertThat(names()).containsExactly("db.json");
    }

    @Test
    void keepExistingKeepsTheTargetsPermissionsAndGivesNewFilesTheDefault() throws IOException {
        Path kept = dir.resolve("kept");
        Files.write(kept, bytes("old"));
        Files.setPosixFilePermissions(kept, PosixFilePermissions.fromString("rw-r-----"));
        AtomicFile.replace(kept, bytes("new"), AtomicFile.Mode.keepExistingOr(AtomicFile.OWNER_ONLY));
        assertThat(kept).hasContent("new");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kept))).isEqualTo("rw-r-----");

        Path fresh = dir.resolve("fresh");
        AtomicFile.replace(fresh, bytes("x"), AtomicFile.Mode.keepExistingOr(AtomicFile.OWNER_ONLY));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rw-------");
    }

    @Test
    void createNewNeverReplacesAFileEvenOneThatAppearsWhileWriting() throws IOException {
        Path target = dir.resolve("key.pem");
        assertThatThrownBy(() -> AtomicFile.createNew(target, out -> out.write(bytes("mine")), AtomicFile.OWNER_ONLY,
                temporary -> Files.write(target, bytes("someone else's"))))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(target).hasContent("someone else's");
        assertThat(names()).containsExactly("key.pem");
        assertThatThrownBy(() -> AtomicFile.createNew(target, bytes("again"), AtomicFile.OWNER_ONLY))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(target).hasContent("someone else's");
    }

    @Test
    void createNewRefusesADanglingSymbolicLink() throws IOException {
        Path target = dir.resolve("link");
        Files.createSymbolicLink(target, dir.resolve("elsewhere"));
        assertThatThrownBy(() -> AtomicFile.createNew(target, bytes("x"), AtomicFile.OWNER_ONLY))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(dir.resolve("elsewhere")).doesNotExist();
    }

    @Test
    void createNewWritesTheFileWithItsPermissions() throws IOException {
        Path target = dir.resolve("cert.pem");
        AtomicFile.createNew(target, bytes("cert"), AtomicFile.WORLD_READABLE);
        assertThat(target).hasContent("cert");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");
        assertThat(names()).containsExactly("cert.pem");
    }

    @Test
    void directoryForceIsBestEffort() {
        assertThat(AtomicFile.forceDirectory(dir)).isTrue();
        assertThat(AtomicFile.forceDirectory(dir.resolve("missing"))).isFalse();
        assertThat(AtomicFile.forceDirectory(null)).isFalse();
    }

    @Test
    void aMissingDirectoryIsAnErrorAndWritesNothing() {
        Path target = dir.resolve("no-such-dir").resolve("f");
        assertThatThrownBy(() -> AtomicFile.replace(target, bytes("x"), AtomicFile.Mode.exactly(AtomicFile.OWNER_ONLY)))
                .isInstanceOf(IOException.class);
        assertThat(target.getParent()).doesNotExist();
    }
}
