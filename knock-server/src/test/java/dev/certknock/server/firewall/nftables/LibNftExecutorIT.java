package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.certknock.server.netns.TestNetwork;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link LibNftExecutor} against the real kernel, from a child JVM inside a network namespace this test creates
 * ({@link LibNftProbeMain}), checked from outside with the {@code nft} program as the independent party.
 * Needs root, {@code ip}, {@code nft} and libnftables ({@code libnftables1}, installed with nftables).
 */
class LibNftExecutorIT {

    String ns;

    @BeforeEach
    void createNamespace() throws Exception {
        TestNetwork.requireRoot("ip", "nft");
        ns = "ck-lib-" + HexFormat.of().formatHex(SecureRandom.getInstanceStrong().generateSeed(4));
        TestNetwork.run("ip", "netns", "add", ns);
    }

    @AfterEach
    void deleteNamespace() {
        if (ns != null) {
            TestNetwork.exitCode(List.of("ip", "netns", "del", ns));
        }
    }

    @Test
    void appliesAtomicallyChecksWithoutApplyingAndListsInTheNamespaceItRunsIn() throws Exception {
        List<String> argv = new ArrayList<>(TestNetwork.in(ns, TestNetwork.javaCommand(), "-cp", TestNetwork.classPath(),
                LibNftProbeMain.class.getName()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        Map<String, String> result = new TreeMap<>();
        for (String line : out.split("\n")) {
            if (line.matches("[A-Za-z]+=.*")) {
                int eq = line.indexOf('=');
                result.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        assumeTrue("true".equals(result.get("loaded")), "skipped: libnftables.so.1 is not loadable here: " + out);
        assertThat(result.get("afterCheck")).as("a dry run applies nothing").isEqualTo("[]");
        assertThat(result.get("afterApply")).isEqualTo("[192.0.2.11 . tcp . 8002, 2001:db8::11 . tcp . 8003-8004]");
        assertThat(result.get("badBatch")).startsWith("refused").contains("Error: No such file or directory");
        assertThat(result.get("afterBad")).as("the refused batch left nothing behind").isEqualTo(result.get("afterApply"));
        // The nft program, run in the same namespace, sees what libnftables did; the host's ruleset has no such table.
        String listed = TestNetwork.run(TestNetwork.in(ns, "nft", "list", "set", "inet", "certknock", "allow4_port")
                .toArray(String[]::new));
        assertThat(listed).contains("192.0.2.11").doesNotContain("192.0.2.10").doesNotContain("192.0.2.12");
        assertThat(TestNetwork.exitCode(List.of("sh", "-c", "nft list tables | grep -qx 'table inet certknock'")))
                .as("the host namespace was not touched").isNotZero();
    }
}
