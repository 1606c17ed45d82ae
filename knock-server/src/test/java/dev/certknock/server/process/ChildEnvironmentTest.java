package dev.certknock.server.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The server's environment (where {@code passwordEnv} puts the bundle password) does not reach the programs
 * it starts: a real JVM is started with a secret in its environment, and {@code env} run through each of the
 * server's process runners must not print it.
 */
class ChildEnvironmentTest {

    private static final String SECRET_NAME = "CERTKNOCK_TEST_BUNDLE_PASSWORD";
    private static final String SECRET_VALUE = "s3cret-bundle-password-7f1c";

    @Test
    void childrenOfTheServerGetPathAndTheCLocaleOnly() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ChildEnvironmentProbe.class.getName(), SECRET_NAME).redirectErrorStream(true);
        pb.environment().put(SECRET_NAME, SECRET_VALUE);
        pb.environment().put("LC_ALL", "de_DE.UTF-8");
        String out = run(pb);

        assertThat(out).as("the probe JVM itself has the secret").contains("jvm-sees-secret=true").contains("--- end");
        String children = out.substring(out.indexOf("--- ProcessRunner"));
        assertThat(children).doesNotContain(SECRET_NAME).doesNotContain(SECRET_VALUE).doesNotContain("de_DE");
        for (String section : children.split("--- ")) {
            if (section.startsWith("ProcessRunner") || section.startsWith("ProcessNftExecutor")) {
                List<String> names = section.lines().skip(1).filter(l -> l.contains("="))
                        .map(l -> l.substring(0, l.indexOf('='))).toList();
                assertThat(names).as(section).containsExactlyInAnyOrder("PATH", "LANG", "LC_ALL");
                assertThat(section).contains("LC_ALL=C\n").contains("LANG=C\n");
            }
        }
    }

    @Test
    void pathIsKeptOrDefaulted() {
        assertThat(ChildEnvironment.from(Map.of("PATH", "/opt/bin:/usr/bin", "SECRET", "x")))
                .isEqualTo(Map.of("PATH", "/opt/bin:/usr/bin", "LANG", "C", "LC_ALL", "C"));
        assertThat(ChildEnvironment.from(Map.of())).containsEntry("PATH", ChildEnvironment.DEFAULT_PATH).hasSize(3);
    }

    private static String run(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.start();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
