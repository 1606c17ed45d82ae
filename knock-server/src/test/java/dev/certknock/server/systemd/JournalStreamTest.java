package dev.certknock.server.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JOURNAL_STREAM matched against a file's device and inode, and the priority prefixes. */
class JournalStreamTest {

    @TempDir
    Path dir;

    static String devIno(Path p) throws Exception {
        return Files.getAttribute(p, "unix:dev") + ":" + Files.getAttribute(p, "unix:ino");
    }

    @Test
    void matchesOnlyTheFileWithThatDeviceAndInode() throws Exception {
        Path journal = Files.createFile(dir.resolve("journal"));
        Path other = Files.createFile(dir.resolve("other"));
        Path link = Files.createSymbolicLink(dir.resolve("fd2"), journal);
        assertThat(JournalStream.matches(devIno(journal), journal)).isTrue();
        assertThat(JournalStream.matches(devIno(journal), link)).as("followed like /proc/self/fd/2").isTrue();
        assertThat(JournalStream.matches(devIno(journal), other)).isFalse();
        assertThat(JournalStream.matches(null, journal)).isFalse();
        for (String bad : new String[] {"", ":", "12", "12:", ":34", "a:b", "1:2:3", "-1:5", "99999999999999999999:1"}) {
            assertThat(JournalStream.matches(bad, journal)).as(bad).isFalse();
        }
        assertThat(JournalStream.matches(devIno(journal), dir.resolve("missing"))).isFalse();
    }

    @Test
    void prefixesAreSyslogPriorities() {
        assertThat(JournalPriorityConverter.prefix(Level.ERROR)).isEqualTo("<3>");
        assertThat(JournalPriorityConverter.prefix(Level.WARN)).isEqualTo("<4>");
        assertThat(JournalPriorityConverter.prefix(Level.INFO)).isEqualTo("<6>");
        assertThat(JournalPriorityConverter.prefix(Level.DEBUG)).isEqualTo("<7>");
        assertThat(JournalPriorityConverter.prefix(Level.TRACE)).isEqualTo("<7>");
    }
}
