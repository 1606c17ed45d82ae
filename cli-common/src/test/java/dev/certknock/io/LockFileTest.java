package dev.certknock.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockFileTest {

    @TempDir
    Path dir;

    @Test
    void oneHolderAtATimeInThisJvmAndTheFileStaysOwnerOnly() throws IOException {
        Path lockPath = LockFile.beside(dir.resolve("replay.journal"));
        assertThat(lockPath.getFileName()).hasToString("replay.journal.lock");
        FileLock first = LockFile.tryLock(lockPath).orElseThrow();
        assertThat(LockFile.tryLock(lockPath)).as("held by the first").isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lockPath))).isEqualTo("rw-------");
        LockFile.release(first);
        assertThat(first.channel().isOpen()).isFalse();
        assertThat(lockPath).as("left in place").exists();
        Optional<FileLock> again = LockFile.tryLock(lockPath);
        assertThat(again).isPresent();
        LockFile.release(again.get());
    }

    /** The lock is the kernel's: another process holding it keeps this one out, until that process is gone. */
    @Test
    void anotherProcessHoldingTheLockKeepsThisOneOut() throws Exception {
        Path lockPath = dir.resolve("status.sock.lock");
        Path holder = dir.resolve("Holder.java");
        Files.writeString(holder, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class Holder {
                    public static void main(String[] a) throws Exception {
                        try (FileChannel c = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                                var l = c.lock()) {
                            System.out.println("locked");
                            System.out.flush();
                            System.in.read();
                        }
                    }
                }
                """);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, holder.toString(), lockPath.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("locked");
            assertThat(LockFile.tryLock(lockPath)).as("held by the other process").isEmpty();
            p.getOutputStream().close();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            FileLock mine = LockFile.tryLock(lockPath).orElseThrow();
            LockFile.release(mine);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aSymbolicLinkIsNotFollowed() throws IOException {
        Path elsewhere = Files.writeString(dir.resolve("elsewhere"), "keep");
        Path link = Files.createSymbolicLink(dir.resolve("x.lock"), elsewhere);
        assertThatThrownBy(() -> LockFile.tryLock(link)).isInstanceOf(IOException.class);
        assertThat(Files.readString(elsewhere)).isEqualTo("keep");
    }
}
