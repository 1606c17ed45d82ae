package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs knock-ca through {@code KnockCaCommand.run} and openssl through ProcessBuilder, in a temporary directory. */
final class CaTestSupport {

    static final ObjectMapper JSON = new ObjectMapper();

    final Path tmp;
    final Path caPass;
    final Path outPass;
    final Path ca;

    CaTestSupport(Path tmp) throws IOException {
        this.tmp = tmp;
        this.caPass = tmp.resolve("ca.pass");
        this.outPass = tmp.resolve("out.pass");
        this.ca = tmp.resolve("ca");
        Files.writeString(caPass, "correct horse battery staple\n");
        Files.writeString(outPass, "bundle-secret\n");
    }

    record Result(int code, String out, String err) {
        Result ok() {
            assertThat(code).as("exit code; stderr: %s; stdout: %s", err, out).isZero();
            return this;
        }

        JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + out, e);
            }
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = KnockCaCommand.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    Result init(String... extra) {
        List<String> args = new ArrayList<>(List.of("init", "--dir", ca.toString(), "--name", "Test certknock CA",
                "--crl-url", "http://ca.example.test/certknock.crl", "--ca-password-file", caPass.toString()));
        args.addAll(Arrays.asList(extra));
        return run(args.toArray(String[]::new));
    }

    Result issueClient(String name, String... extra) {
        List<String> args = new ArrayList<>(List.of("issue-client", "--dir", ca.toString(), name,
                "--out", tmp.resolve(name + ".p12").toString(), "--ca-password-file", caPass.toString(),
                "--bundle-password-file", outPass.toString()));
        args.addAll(Arrays.asList(extra));
        return run(args.toArray(String[]::new));
    }

    Result issueServer(String name, String... extra) {
        List<String> args = new ArrayList<>(List.of("issue-server", "--dir", ca.toString(), name,
                "--out", tmp.resolve(name + ".p12").toString(), "--ca-password-file", caPass.toString(),
                "--bundle-password-file", outPass.toString()));
        args.addAll(Arrays.asList(extra));
        return run(args.toArray(String[]::new));
    }

    Result crl() {
        return run("crl", "--dir", ca.toString(), "--ca-password-file", caPass.toString());
    }

    Path crlFile() {
        return ca.resolve("publish/certknock.crl.pem");
    }

    /** The serial printed by issue-*. */
    static String serialOf(Result r) {
        String first = r.out().lines().findFirst().orElseThrow();
        return first.substring(first.lastIndexOf(' ') + 1);
    }

    JsonNode inspect(Path file) {
        return run("inspect", "--json", file.toString(), "--bundle-password-file", outPass.toString()).ok().json();
    }

    record Proc(int code, String output) {
    }

    /** Runs openssl (stdout and stderr together). */
    Proc openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Proc(p.exitValue(), output);
    }
}
