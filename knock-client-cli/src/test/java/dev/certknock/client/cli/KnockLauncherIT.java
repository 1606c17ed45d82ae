package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/knock with its class-data sharing archive (bin/lib/cds.sh), run as a user runs it: the first run makes the
 * archive, the next ones use it; an archive in a directory or file that others may write is not used; a changed jar
 * gets a new archive; the output is the same with and without one; concurrent first runs leave one good archive.
 * Each test runs a copy of the launcher and the jar (a checkout of its own) so that it may change them.
 */
class KnockLauncherIT {

    /** One checkout and one archive made for it once for the whole class (a dump takes about 2 s). */
    static Path repo;
    static Path made;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static Path jar() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("target"))) {
            return s.filter(p -> p.getFileName().toString().matches("knock-client-cli-.*-all\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no shaded jar in target/: run the package phase first"));
        }
    }

    /** A checkout of its own under {@code root}: bin/knock, bin/lib/cds.sh, the class list and the jar. */
    static Path checkout(Path root) throws IOException {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        for (String f : List.of("bin/knock", "bin/lib/cds.sh", "knock-client-cli/src/main/cds/knock.classlist")) {
            Path to = root.resolve(f);
            Files.createDirectories(to.getParent());
            Files.copy(repo.resolve(f), to, StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path jar = root.resolve("knock-client-cli/target").resolve(jar().getFileName());
        Files.createDirectories(jar.getParent());
        Files.copy(jar(), jar, StandardCopyOption.COPY_ATTRIBUTES);
        return root;
    }

    record Run(int exit, String out, String err, String classLoads) {
        /** Whether the command class came out of a CDS archive rather than the jar. */
        boolean shared() {
            return classLoads.contains("dev.certknock.client.cli.KnockCommand source: shared objects file");
        }
    }

    static Run knock(Path root, Path cache, Map<String, String> env, String... args) throws Exception {
        Path log = Files.createTempFile(root, "classload", ".log");
        List<String> cmd = new ArrayList<>(List.of(root.resolve("bin/knock").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
        Path out = root.resolve("out.txt");
        Path err = root.resolve("err.txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                Path.of("/dev/null").toFile()));
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("XDG_CACHE_HOME", cache.toString());
        pb.environment().put("HOME", root.resolve("home").toString());
        pb.environment().put("CERTKNOCK_TARGETS", root.resolve("targets.yaml").toString());
        pb.environment().put("CERTKNOCK_JAVA_OPTS", "-Xlog:class+load=info:file=" + log);
        pb.environment().remove("CERTKNOCK_CDS");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err),
                Files.readString(log, StandardCharsets.UTF_8));
    }

    static List<Path> archives(Path cache) throws IOException {
        Path dir = cache.resolve("certknock/cds");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().collect(Collectors.toList());
        }
    }

    /** Waits until the cache directory holds {@code n} archives and nothing else (no temporary or lock file). */
    static List<Path> awaitArchives(Path cache, int n) throws Exception {
        for (int i = 0; i < 1200; i++) {
            List<Path> a = archives(cache);
            if (a.size() == n && a.stream().allMatch(p -> p.getFileName().toString().matches("knock-.*\\.jsa"))) {
                return a;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not " + n + " archives after 120 s: " + archives(cache));
    }

    /** The first run makes the archive in the background and runs without it; the second one uses it. */
    @BeforeAll
    static void firstRunMakesTheArchiveAndTheSecondUsesIt() throws Exception {
        repo = checkout(shared.resolve("repo"));
        Path root = repo;
        Path cache = shared.resolve("cache");
        Run first = knock(root, cache, Map.of(), "--version");
        assertThat(first.exit()).isZero();
        assertThat(first.err()).isEmpty();
        assertThat(first.shared()).isFalse();
        made = awaitArchives(cache, 1).get(0);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made.getParent())))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made))).isEqualTo("r--------");
        Run second = knock(root, cache, Map.of(), "--version");
        assertThat(second.shared()).as("second run uses the archive").isTrue();
        assertThat(second.out()).isEqualTo(first.out());
        assertThat(second.err()).isEmpty();
        // -Xshare:on makes the JVM fail rather than run without the archive: it is really usable.
        Run strict = knock(root, cache, Map.of("CERTKNOCK_JAVA_OPTS", "-Xshare:on"), "--version");
        assertThat(strict.exit()).as(strict.err()).isZero();
    }

    /** The archive for {@link #repo} in a cache directory of its own, as a test that changes it needs. */
    Path cacheWithArchive(Path cache) throws IOException {
        Path dir = Files.createDirectories(cache.resolve("certknock/cds"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path copy = dir.resolve(made.getFileName());
        Files.copy(made, copy, StandardCopyOption.COPY_ATTRIBUTES);
        return copy;
    }

    @Test
    void helpIsTheSameWithAndWithoutTheArchive() throws Exception {
        Path root = repo;
        Path cache = tmp.resolve("cache");
        cacheWithArchive(cache);
        Run with = knock(root, cache, Map.of(), "--help");
        Run without = knock(root, cache, Map.of("CERTKNOCK_CDS", "off"), "--help");
        assertThat(with.shared()).isTrue();
        assertThat(without.shared()).isFalse();
        assertThat(with.exit()).isZero();
        assertThat(with.out()).contains("Usage: knock").isEqualTo(without.out());
        assertThat(with.err()).isEmpty();
        assertThat(without.err()).isEmpty();
        // A usage error goes the same way to stderr, with the same exit code.
        Run badWith = knock(root, cache, Map.of(), "--no-such-option");
        Run badWithout = knock(root, cache, Map.of("CERTKNOCK_CDS", "off"), "--no-such-option");
        assertThat(badWith.exit()).isEqualTo(badWithout.exit()).isEqualTo(2);
        assertThat(badWith.err()).isEqualTo(badWithout.err()).contains("--no-such-option");
    }

    /** The JVM the launcher starts: C1 alone, one compiler thread (bin/lib/cds.sh certknock_jit, DESIGN.md D42). */
    @Test
    void theLauncherStartsTheC1CompilerAloneOnOneThread() throws Exception {
        Run run = knock(repo, tmp.resolve("cache"), Map.of("CERTKNOCK_JAVA_OPTS", "-XX:+PrintFlagsFinal"), "--version");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("\\bCICompilerCount\\s+= 1\\b")
                .containsPattern("\\bTieredStopAtLevel\\s+= 1\\b").contains("knock ");
    }

    /**
     * A compiler option of the user's replaces the launcher's, so that the documented way back to the JVM's default
     * works: C2 needs two compiler threads, and the JVM refuses to start with one.
     */
    @Test
    void aCompilerOptionInJavaOptsReplacesTheLaunchers() throws Exception {
        Run run = knock(repo, tmp.resolve("cache"),
                Map.of("CERTKNOCK_JAVA_OPTS", "-XX:TieredStopAtLevel=4 -XX:+PrintFlagsFinal"), "--version");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("\\bTieredStopAtLevel\\s+= 4\\b")
                .doesNotContainPattern("\\bCICompilerCount\\s+= 1\\b").contains("knock ");
    }

    /**
     * A knock and an ssh-proxy parse with the lean models (DESIGN.md D42), which read no annotation: picocli's
     * annotation reading makes a proxy class per annotation type at run time, and the run loads none. Help uses the
     * annotated model, and does load them: the check can fail.
     */
    @Test
    void aKnockAndAnSshProxyReadNoAnnotation() throws Exception {
        CliPki pki = new CliPki(Files.createDirectories(tmp.resolve("pki")));
        Path cache = tmp.resolve("cache");
        cacheWithArchive(cache);
        Run dry = knock(repo, cache, Map.of(), pki.credentials("127.0.0.1", "tcp/22", "--dry-run"));
        assertThat(dry.exit()).as(dry.err()).isZero();
        assertThat(dry.classLoads()).doesNotContain("__dynamic_proxy__");
        // ssh-proxy up to a failure before any packet: its server certificate is missing.
        Path missing = tmp.resolve("missing.pem");
        Run proxy = knock(repo, cache, Map.of(), "ssh-proxy", "127.0.0.1", "22", "--bundle", pki.bundle.toString(),
                "--password-file", pki.passwordFile.toString(), "--server-cert", missing.toString());
        assertThat(proxy.exit()).isEqualTo(3);
        assertThat(proxy.err()).contains("server certificate " + missing + " does not exist");
        assertThat(proxy.classLoads()).contains("SshProxyCommand").doesNotContain("__dynamic_proxy__");
        Run help = knock(repo, cache, Map.of(), "ssh-proxy", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.classLoads()).contains("__dynamic_proxy__");
    }

    @Test
    void aDryRunLoadsAlmostEverythingFromTheArchive() throws Exception {
        CliPki pki = new CliPki(Files.createDirectories(tmp.resolve("pki")));
        Path root = repo;
        Path cache = tmp.resolve("cache");
        cacheWithArchive(cache);
        Run dry = knock(root, cache, Map.of(), pki.credentials("127.0.0.1", "tcp/22", "--dry-run"));
        assertThat(dry.exit()).as(dry.err()).isZero();
        assertThat(dry.out()).startsWith("dry run, nothing sent:");
        List<String> ours = dry.classLoads().lines()
                .filter(l -> l.matches(".* (dev\\.certknock|org\\.bouncycastle|com\\.fasterxml|picocli)\\..*"))
                .collect(Collectors.toList());
        long fromJar = ours.stream().filter(l -> !l.contains("source: shared objects file")).count();
        // The class list (bin/lib/make-classlists.sh) covers a dry run; a few classes are never archivable
        // (picocli's interfaces of an old class-file version). Regenerate the list when this fails.
        assertThat(ours).hasSizeGreaterThan(500);
        assertThat(fromJar).as("classes not from the archive: regenerate with bin/lib/make-classlists.sh")
                .isLessThan(ours.size() / 20);
    }

    @Test
    void anArchiveDirectoryOthersMayWriteIsNotUsed() throws Exception {
        Path root = repo;
        Path cache = tmp.resolve("cache");
        Path archive = cacheWithArchive(cache);
        Files.setPosixFilePermissions(archive.getParent(), PosixFilePermissions.fromString("rwxrwxrwx"));
        Run run = knock(root, cache, Map.of("CERTKNOCK_CDS", "now"), "--version");
        assertThat(run.exit()).isZero();
        assertThat(run.err()).isEmpty();
        assertThat(run.shared()).isFalse();
        assertThat(archives(cache)).containsExactly(archive); // nothing written into it either
        Files.setPosixFilePermissions(archive.getParent(), PosixFilePermissions.fromString("rwx---r-x"));
        assertThat(knock(root, cache, Map.of(), "--version").shared()).isTrue();
    }

    @Test
    void anArchiveOthersMayWriteIsNotUsedAndIsReplaced() throws Exception {
        Path root = repo;
        Path cache = tmp.resolve("cache");
        Path archive = cacheWithArchive(cache);
        Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-rw-r--"));
        Run run = knock(root, cache, Map.of(), "--version");
        assertThat(run.shared()).isFalse();
        assertThat(run.err()).isEmpty();
        // The background creation replaces it by one only this user may read.
        for (int i = 0; i < 1200 && !PosixFilePermissions.toString(Files.getPosixFilePermissions(archive))
                .equals("r--------"); i++) {
            Thread.sleep(100);
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(archive))).isEqualTo("r--------");
        assertThat(knock(root, cache, Map.of(), "--version").shared()).isTrue();
    }

    @Test
    void anEmptyArchiveIsReplaced() throws Exception {
        Path root = repo;
        Path cache = tmp.resolve("cache");
        Path archive = cacheWithArchive(cache);
        Files.delete(archive);
        Files.createFile(archive, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Run run = knock(root, cache, Map.of("CERTKNOCK_CDS", "now"), "--version");
        assertThat(run.shared()).isTrue();
        assertThat(run.err()).isEmpty();
        assertThat(Files.size(archive)).isGreaterThan(1_000_000);
    }

    @Test
    void aRebuiltJarGetsANewArchive() throws Exception {
        Path root = checkout(tmp.resolve("repo"));
        Path cache = tmp.resolve("cache");
        assertThat(knock(root, cache, Map.of("CERTKNOCK_CDS", "now"), "--version").shared()).isTrue();
        Path old = awaitArchives(cache, 1).get(0);
        // Another modification time, as a rebuild gives: another key, so the old archive is not used for it.
        Path jar = root.resolve("knock-client-cli/target").resolve(jar().getFileName());
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
        Run rebuilt = knock(root, cache, Map.of(), "--version");
        assertThat(rebuilt.exit()).isZero();
        assertThat(rebuilt.err()).isEmpty();
        assertThat(rebuilt.shared()).isFalse();
        assertThat(awaitArchives(cache, 2)).contains(old);
        assertThat(knock(root, cache, Map.of(), "--version").shared()).isTrue();
    }

    @Test
    void concurrentFirstRunsLeaveOneGoodArchive() throws Exception {
        Path root = checkout(tmp.resolve("repo"));
        Path cache = tmp.resolve("cache");
        List<Process> runs = new ArrayList<>();
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            ProcessBuilder pb = new ProcessBuilder(root.resolve("bin/knock").toString(), "--version")
                    .redirectErrorStream(true);
            pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
            pb.environment().put("XDG_CACHE_HOME", cache.toString());
            pb.environment().put("CERTKNOCK_CDS", "now");
            runs.add(pb.start());
        }
        List<String> outputs = new ArrayList<>();
        for (Process p : runs) {
            outputs.add(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        }
        assertThat(outputs).allMatch(o -> o.equals(outputs.get(0)) && o.startsWith("knock "));
        awaitArchives(cache, 1); // one archive, no temporary or lock file left
        assertThat(knock(root, cache, env, "--version").shared()).isTrue();
    }
}
