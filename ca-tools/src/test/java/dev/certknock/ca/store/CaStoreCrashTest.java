package dev.certknock.ca.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.ca.cli.KnockCaCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of the CA database: a process killed while writing leaves at most a temporary file, which
 * never replaces db.json; (AtomicFilesTest: a write that fails midway leaves the previous content); a damaged database is refused.
 */
class CaStoreCrashTest {

    @TempDir
    Path tmp;

    private int run(String... args) {
        return KnockCaCommand.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), args);
    }

    @Test
    void aTornTemporaryFileFromACrashIsIgnoredAndTheDatabaseStillWorks() throws Exception {
        Path pass = tmp.resolve("pass");
        Files.writeString(pass, "correct horse battery\n");
        Path ca = tmp.resolve("ca");
        assertThat(run("init", "--dir", ca.toString(), "--name", "CA", "--crl-url", "http://x.test/c.crl",
                "--ca-password-file", pass.toString())).isZero();
        CaStore store = new CaStore(CaDirectory.open(ca));
        // What a crash between write and rename leaves: half a database under a temporary name.
        Files.writeString(ca.resolve(".db.json.123.tmp"), "{\"formatVersion\":1,\"lastCrlNu");
        assertThat(store.database().entries()).isEmpty();
        assertThat(run("issue-client", "--dir", ca.toString(), "a", "--grant", "tcp/22", "--out", tmp.resolve("a.p12").toString(),
                "--ca-password-file", pass.toString(), "--bundle-password-file", pass.toString())).isZero();
        assertThat(store.database().entries()).hasSize(1);
    }

    @Test
    void aDamagedDatabaseIsRefusedWithAMessage() throws Exception {
        Path ca = tmp.resolve("ca");
        Files.createDirectories(ca);
        Files.writeString(ca.resolve("db.json"), "{\"formatVersion\":1,\"lastCrlNu");
        CaStore store = new CaStore(new CaDirectory(ca));
        org.assertj.core.api.Assertions.assertThatThrownBy(store::database).hasMessageContaining("db.json is damaged")
                .hasMessageContaining("restore it from your backup");
    }
}
