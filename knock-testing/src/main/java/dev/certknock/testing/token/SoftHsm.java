package dev.certknock.testing.token;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * SoftHSM2 (Debian {@code softhsm2}, a PKCS#11 token in files) for tests, in a token directory of the test run's
 * own, never the system's /var/lib/softhsm. SoftHSM reads its configuration file from {@code SOFTHSM2_CONF} when the
 * module is initialized, so the test JVM must be started with that variable set (the module's surefire
 * configuration does it); this class writes the file it names, clears its token directory once per JVM, and
 * initializes tokens with {@code softhsm2-util}. {@code pkcs11-tool} (Debian {@code opensc}) reads token objects
 * from outside the JVM, as a user would.
 */
public final class SoftHsm {

    /** Debian's SoftHSM2 module. */
    public static final Path MODULE = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    public static final String CONF_VARIABLE = "SOFTHSM2_CONF";

    private static final AtomicInteger TOKENS = new AtomicInteger();
    private static Path conf;

    private SoftHsm() {
    }

    /** The configuration file, written (and its token directory emptied) on the first call in this JVM. */
    public static synchronized Path conf() throws IOException {
        if (conf != null) {
            return conf;
        }
        String name = System.getenv(CONF_VARIABLE);
        if (name == null || name.isEmpty()) {
            throw new IllegalStateException(CONF_VARIABLE + " is not set for this JVM: the module's surefire "
                    + "configuration sets it (environmentVariables) so that SoftHSM never uses /etc/softhsm");
        }
        if (!Files.isRegularFile(MODULE)) {
            throw new IllegalStateException(MODULE + " is missing: install Debian's softhsm2 and opensc (.ci/run does)");
        }
        Path file = Path.of(name).toAbsolutePath();
        Path tokens = file.resolveSibling("tokens");
        if (Files.exists(tokens)) {
            try (Stream<Path> all = Files.walk(tokens)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(tokens);
        Files.writeString(file, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\n"
                + "log.level = ERROR\nslots.removable = false\n");
        conf = file;
        return conf;
    }

    /**
     * Initializes a new token in a free slot and returns its label ({@code prefix} and a number unique in this JVM).
     * The PINs are test fixtures: they go on softhsm2-util's command line, never on a certknock command's.
     */
    public static String initToken(String prefix, String soPin, String userPin) throws IOException, InterruptedException {
        String label = prefix + "-" + TOKENS.incrementAndGet();
        run("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", soPin, "--pin", userPin);
        return label;
    }

    /** Runs pkcs11-tool with SoftHSM's module and this configuration; returns its standard output. */
    public static String pkcs11Tool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("pkcs11-tool", "--module", MODULE.toString()));
        command.addAll(List.of(args));
        return run(command.toArray(new String[0]));
    }

    private static String run(String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put(CONF_VARIABLE, conf().toString());
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command[0] + " did not finish in 30 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": " + text);
        }
        return text;
    }
}
