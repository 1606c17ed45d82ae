package dev.certknock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How the classes every tool starts with are compiled (DESIGN.md D42): picocli from its sources as Java 17 class
 * files (its own jar's Java 5 ones are verified again at every start, even from a class-data sharing archive), and
 * string concatenation, picocli's and ours, without invokedynamic (each new shape spins classes at its first use).
 * Fails when the upstream picocli jar comes back, or when {@code -XDstringConcat=inline} is lost.
 */
class ClassFilesTest {

    private static byte[] classFile(String name) throws IOException {
        try (InputStream in = ClassFilesTest.class.getClassLoader().getResourceAsStream(name + ".class")) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static int majorVersion(byte[] c) {
        return ((c[6] & 0xff) << 8) | (c[7] & 0xff);
    }

    private static boolean mentions(byte[] c, String text) {
        return new String(c, StandardCharsets.ISO_8859_1).contains(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"picocli/CommandLine", "picocli/CommandLine$Range", "picocli/CommandLine$Interpreter",
        "picocli/CommandLine$Model$OptionSpec", "picocli/CommandLine$Help", "picocli/AutoComplete"})
    void picocliIsJava17ClassFilesWithoutIndyConcatenation(String name) throws IOException {
        byte[] c = classFile(name);
        assertThat(majorVersion(c)).as("class file version of %s", name).isEqualTo(61);
        assertThat(mentions(c, "makeConcatWithConstants")).as("indy string concatenation in %s", name).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev/certknock/cli/CommandRunner", "dev/certknock/cli/ManifestVersionProvider",
        "dev/certknock/io/LockFile"})
    void ourClassesConcatenateWithoutInvokedynamic(String name) throws IOException {
        byte[] c = classFile(name);
        assertThat(majorVersion(c)).isEqualTo(61);
        assertThat(mentions(c, "makeConcatWithConstants")).as("indy string concatenation in %s", name).isFalse();
        // The check can fail: these classes do concatenate strings, through StringBuilder now.
        assertThat(mentions(c, "java/lang/StringBuilder")).as("%s concatenates", name).isTrue();
    }

    /** The marker the checks look for is there in a class compiled the default way (javac, indy concatenation). */
    @Test
    void theCheckSeesAnIndyConcatenationWhereThereIsOne(@TempDir Path dir) throws IOException {
        Path source = Files.writeString(dir.resolve("Concat.java"),
                "class Concat { static String f(String a, int b) { return a + \":\" + b; } }");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac.run(null, null, null, "--release", "17", "-d", dir.toString(), source.toString())).isZero();
        byte[] c = Files.readAllBytes(dir.resolve("Concat.class"));
        assertThat(mentions(c, "makeConcatWithConstants")).isTrue();
    }
}
