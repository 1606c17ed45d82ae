package dev.certknock.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.ca.CaException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write that fails midway leaves the previous content readable and no temporary file behind; a new file is
 * never written over one that appeared after the absence check.
 */
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

    @Test
    void writeNewDoesNotOverwriteAFileThatAppearsAfterTheAbsenceCheck() throws Exception {
        Path target = tmp.resolve("alice.p12");
        // The writer runs after writeNew checked that the target is absent: another process creates it meanwhile.
        assertThatThrownBy(() -> AtomicFiles.writeNew(target, out -> {
            Files.writeString(target, "the other run's bundle");
            out.write("this run's bundle".getBytes());
        }, AtomicFiles.SECRET)).isInstanceOf(CaException.class)
                .hasMessage(target + " already exists: choose another output path or move the old file away");
        assertThat(Files.readString(target)).isEqualTo("the other run's bundle");
        assertThat(names()).containsExactly("alice.p12");
    }

    @Test
    void writeNewDoesNotWriteThroughASymbolicLinkThatAppearsAfterTheCheck() throws Exception {
        Path target = tmp.resolve("key.pem");
        Path elsewhere = tmp.resolve("elsewhere");
        assertThatThrownBy(() -> AtomicFiles.writeNew(target, out -> {
            Files.createSymbolicLink(target, elsewhere);
            out.write("secret".getBytes());
        }, AtomicFiles.SECRET)).isInstanceOf(CaException.class).hasMessageContaining("already exists");
        assertThat(Files.isSymbolicLink(target)).isTrue();
        assertThat(elsewhere).doesNotExist();
        assertThat(names()).containsExactly("key.pem");
    }

    @Test
    void twoRunsPastTheCheckAtOnceLeaveExactlyOneIntactFile() throws Exception {
        Path target = tmp.resolve("out.p12");
        CyclicBarrier bothChecked = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> runs = new ArrayList<>();
            for (String content : new String[] {"run A", "run B"}) {
                runs.add(pool.submit(() -> {
                    try {
                        AtomicFiles.writeNew(target, out -> {
                            try {
                                // Both runs have passed the absence check before either publishes its file.
                                bothChecked.await(30, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                throw new IOException("the other run did not arrive", e);
                            }
                            out.write(content.getBytes());
                        }, AtomicFiles.SECRET);
                        return content;
                    } catch (CaException e) {
                        return "refused: " + e.getMessage();
                    }
                }));
            }
            List<String> outcomes = new ArrayList<>();
            for (Future<String> f : runs) {
                outcomes.add(f.get(60, TimeUnit.SECONDS));
            }
            List<String> won = outcomes.stream().filter(o -> !o.startsWith("refused: ")).toList();
            assertThat(won).as("outcomes %s", outcomes).hasSize(1);
            assertThat(outcomes).contains("refused: " + target + " already exists: choose another output path or move the old file away");
            assertThat(Files.readString(target)).isEqualTo(won.get(0));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-------");
            assertThat(Files.getAttribute(target, "unix:nlink")).as("no second name left for the file").isEqualTo(1);
            assertThat(names()).containsExactly("out.p12");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void writeNewMakesSecretFiles0600() throws Exception {
        AtomicFiles.writeNew(tmp.resolve("k"), new byte[] {7}, AtomicFiles.SECRET);
        assertThat(Files.readAllBytes(tmp.resolve("k"))).containsExactly(7);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("k")))).isEqualTo("rw-------");
        assertThat(names()).containsExactly("k");
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
