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
        // The backend's writer: grants over netlink, read back through libnftables.
        assertThat(result.get("writerDescribe")).endsWith("in-process through libnftables, grants over netlink");
        assertThat(result.get("writerAdded")).isEqualTo("[192.0.2.21 tcp/8001 ck1 aaaa long, 192.0.2.22 tcp/8002-8003 "
                + "null long, 2001:db8:0:0:0:0:0:21 udp/8004 ck1 bbbb long, 2001:db8:0:0:0:0:0:22 tcp/8005-8009 ck1 cccc long]");
        assertThat(result.get("writerChanged")).isEqualTo("[192.0.2.21 tcp/8001 ck1 dddd long, 2001:db8:0:0:0:0:0:21 "
                + "udp/8004 ck1 bbbb long, 2001:db8:0:0:0:0:0:22 tcp/8005-8009 ck1 cccc long]");
        assertThat(result.get("writerRefused")).startsWith("the kernel refused the batch of 1 set change(s), nothing of "
                + "it was applied: ENOENT").contains("add element inet nosuchtable allow4_port 192.0.2.23 . tcp . 8001");
        assertThat(result.get("writerAfterRefused")).isEqualTo(result.get("writerChanged"));
        // the writer's dry runs over netlink (rehearsals, warm-up): answered at once, nothing written
        assertThat(Long.parseLong(result.get("writerCheckMillis"))).as("every change answered, no reply timeout")
                .isLessThan(NftNetlink.REPLY_TIMEOUT_MS);
        assertThat(result.get("writerAfterCheck")).as("a dry run over netlink writes nothing")
                .isEqualTo(result.get("writerChanged"));
        assertThat(result.get("writerCheckRefused")).startsWith("the kernel refused the batch of 1 set change(s)")
                .contains("ENOENT");
        String comment = TestNetwork.run(TestNetwork.in(ns, "nft", "list", "set", "inet", "ckwriter", "allow4_port")
                .toArray(String[]::new));
        assertThat(comment).as("nft reads what netlink wrote").contains("192.0.2.21 . tcp . 8001 timeout 30s expires")
                .contains("comment \"ck1 dddd\"");
        // The nft program, run in the same namespace, sees what libnftables did; the host's ruleset has no such table.
        String listed = TestNetwork.run(TestNetwork.in(ns, "nft", "list", "set", "inet", "certknock", "allow4_port")
                .toArray(String[]::new));
        assertThat(listed).contains("192.0.2.11").doesNotContain("192.0.2.10").doesNotContain("192.0.2.12");
        assertThat(TestNetwork.exitCode(List.of("sh", "-c", "nft list tables | grep -qx 'table inet certknock'")))
                .as("the host namespace was not touched").isNotZero();
    }
}
