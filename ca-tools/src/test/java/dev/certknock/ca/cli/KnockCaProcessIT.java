package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as separate processes: several issue-client invocations at once get distinct serials in one
 * valid database (the file lock works across JVMs), and --*-password-env reads the named variable.
 */
class KnockCaProcessIT {

    @TempDir
    Path tmp;

    private static Path jar() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("target"))) {
            return s.filter(p -> p.getFileName().toString().matches("ca-tools-.*-all\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no shaded jar in target/: run the package phase first"));
        }
    }

    private Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("CA_PASS", "correct horse battery staple");
        pb.environment().put("BUNDLE_PASS", "bundle-secret");
        pb.environment().put("KNOCK_CA_DIR", tmp.resolve("ca").toString());
        return pb.start();
    }

    private static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void concurrentProcessesIssueDistinctSerialsIntoOneDatabase() throws Exception {
        finish(start("init", "--name", "Process CA", "--crl-url", "http://ca.example.test/certknock.crl",
                "--ca-password-env", "CA_PASS"));
        int n = 4;
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            processes.add(start("issue-client", "p" + i, "--grant", "tcp/22", "--out", tmp.resolve("p" + i + ".p12").toString(),
                    "--ca-password-env", "CA_PASS", "--bundle-password-env", "BUNDLE_PASS"));
        }
        Set<String> serials = new HashSet<>();
        for (Process p : processes) {
            String out = finish(p);
            String first = out.lines().findFirst().orElseThrow();
            serials.add(first.substring(first.lastIndexOf(' ') + 1));
        }
        assertThat(serials).hasSize(n);
        JsonNode rows = CaTestSupport.JSON.readTree(finish(start("list", "--json")));
        assertThat(rows).hasSize(n);
        Set<String> listed = new HashSet<>();
        rows.forEach(r -> listed.add(r.get("serial").asText()));
        assertThat(listed).isEqualTo(serials);
        assertThat(finish(start("crl", "--ca-password-env", "CA_PASS"))).contains("CRL number 1");
    }
}
