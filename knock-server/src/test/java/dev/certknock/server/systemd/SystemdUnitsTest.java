package dev.certknock.server.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every unit in {@code deploy/} passes {@code systemd-analyze verify}, with no warning about it either.
 *
 * <p>verify also checks that each {@code Exec*=} program exists and is executable, and the units name where the
 * package installs the programs ({@code /opt/certknock/bin/...}), which is not on a build machine. So the units are
 * verified as copies in which a program that does not exist here is replaced by the launcher of the same name in
 * this repository's {@code bin/} (which does exist and is executable); a program found neither place stays as it is,
 * and verify fails on it. Nothing else in the copies is changed. The {@code man:} pages the units name are not
 * checked here ({@code --man=no}): they exist once the packages are installed, where packaging/deb/ci-test.sh runs
 * verify with its default man-page check.
 */
class SystemdUnitsTest {

    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern EXEC = Pattern.compile("(?m)^(Exec\\w+=[-@:+!]*)(/\\S+)");

    @TempDir
    Path dir;

    static List<Path> units() throws IOException {
        try (Stream<Path> files = Files.list(REPO.resolve("deploy"))) {
            return files.filter(p -> p.toString().endsWith(".service") || p.toString().endsWith(".timer")).sorted().toList();
        }
    }

    @Test
    void everyUnitPassesSystemdAnalyzeVerify() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/systemd-analyze")) || Files.isExecutable(Path.of("/bin/systemd-analyze")),
                "systemd-analyze is not installed (CI has it)");
        List<Path> units = units();
        assertThat(units).extracting(p -> p.getFileName().toString()).contains("certknock-server.service");
        // Man pages (Documentation=man:...) are checked where the packages install them: packaging/deb/ci-test.sh
        // verifies the installed units with verify's default --man=yes. A build machine has none installed.
        List<String> argv = new ArrayList<>(List.of("systemd-analyze", "verify", "--man=no"));
        for (Path unit : units) {
            Path copy = dir.resolve(unit.getFileName());
            Files.writeString(copy, withRepoPrograms(Files.readString(unit, StandardCharsets.UTF_8)));
            argv.add(copy.toString());
        }
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("systemd-analyze verify:%n%s", out).isZero();
        for (Path unit : units) {
            String name = unit.getFileName().toString();
            assertThat(out.lines().filter(l -> l.contains(name))).as("what verify says about %s", name).isEmpty();
        }
    }

    /** Exec*= programs that do not exist here become the launcher of that name in bin/, where there is one. */
    static String withRepoPrograms(String unit) {
        Matcher m = EXEC.matcher(unit);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Path program = Path.of(m.group(2));
            Path local = REPO.resolve("bin").resolve(program.getFileName().toString());
            String use = !Files.isExecutable(program) && Files.isExecutable(local) ? local.toString() : program.toString();
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + use));
        }
        m.appendTail(out);
        return out.toString();
    }

    @Test
    void theServerUnitIsANotifyServiceWithWatchdogReloadAndItsDocumentation() throws Exception {
        String unit = Files.readString(REPO.resolve("deploy/certknock-server.service"), StandardCharsets.UTF_8);
        assertThat(unit).containsPattern("(?m)^Type=notify$").containsPattern("(?m)^NotifyAccess=main$")
                .containsPattern("(?m)^WatchdogSec=\\d+s$").containsPattern("(?m)^ExecReload=/bin/kill -HUP \\$MAINPID$")
                .containsPattern("(?m)^SuccessExitStatus=143$");
        // The notify socket is AF_UNIX; the sandbox must allow it.
        Matcher families = Pattern.compile("(?m)^RestrictAddressFamilies=(.*)$").matcher(unit);
        assertThat(families.find()).isTrue();
        assertThat(families.group(1).split(" ")).contains("AF_UNIX");
        // Documentation= names files the package installs from this repository's docs/.
        Matcher docs = Pattern.compile("(?m)^Documentation=(.*)$").matcher(unit);
        assertThat(docs.find()).isTrue();
        for (String link : docs.group(1).split(" ")) {
            assertThat(link).startsWith("file:/usr/share/doc/certknock-server/");
            assertThat(REPO.resolve("docs").resolve(Path.of(link.substring("file:".length())).getFileName())).isRegularFile();
        }
    }

    @Test
    void programsMissingHereAreReplacedByTheRepositoryLaunchersOnly() {
        String unit = "ExecStartPre=/nonexistent/certknock/bin/knock-server check-config x\nExecStart=-/nonexistent/certknock/bin/knock-ca y\n"
                + "ExecReload=/bin/kill -HUP $MAINPID\nExecStop=/opt/nowhere/not-a-launcher\n";
        assertThat(withRepoPrograms(unit)).isEqualTo("ExecStartPre=" + REPO.resolve("bin/knock-server") + " check-config x\n"
                + "ExecStart=-" + REPO.resolve("bin/knock-ca") + " y\n"
                + "ExecReload=/bin/kill -HUP $MAINPID\nExecStop=/opt/nowhere/not-a-launcher\n");
    }
}
