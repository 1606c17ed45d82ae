package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.server.firewall.FirewallException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The process plumbing, with /bin/sh standing in for nft (the prefix makes sh run a script). */
class ProcessNftExecutorTest {

    private static ProcessNftExecutor sh(String script, Duration timeout) {
        // command: sh -c SCRIPT sh nft ARGS...; inside the script $1 is "nft" and $2... are nft's arguments
        return new ProcessNftExecutor(List.of("sh", "-c", script, "sh"), "nft", timeout);
    }

    @Test
    void commandIsPrefixThenNftThenArguments() {
        ProcessNftExecutor e = new ProcessNftExecutor(List.of("ip", "netns", "exec", "ns1"));
        assertThat(e.command(List.of("-f", "-"))).containsExactly("ip", "netns", "exec", "ns1", "nft", "-f", "-");
    }

    @Test
    void applyPassesTheScriptOnStdinAndArgumentsAsArgv() throws Exception {
        // echoes the arguments and stdin to stderr and fails, so the exception shows what nft received
        ProcessNftExecutor e = sh("echo \"args=$*\" >&2; cat >&2; exit 1", Duration.ofSeconds(10));
        assertThatThrownBy(() -> e.apply("add element inet certknock allow4 { 192.0.2.1 . tcp . 22 }\n"))
                .isInstanceOf(FirewallException.class)
                .hasMessageContaining("exit status 1")
                .hasMessageContaining("args=nft -f -")
                .hasMessageContaining("add element inet certknock allow4 { 192.0.2.1 . tcp . 22 }");
        assertThatThrownBy(() -> e.check("x")).hasMessageContaining("args=nft -c -f -");
    }

    @Test
    void queryReturnsStdout() throws Exception {
        ProcessNftExecutor e = sh("shift; echo \"$*\"", Duration.ofSeconds(10));
        assertThat(e.query(List.of("-j", "list", "table", "inet", "certknock"))).isEqualTo("-j list table inet certknock\n");
    }

    @Test
    void largeOutputDoesNotDeadlock() throws Exception {
        ProcessNftExecutor e = sh("head -c 2000000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero >&2", Duration.ofSeconds(20));
        assertThat(e.query(List.of())).hasSize(2_000_000);
    }

    @Test
    void aHangingNftIsKilledAtTheTimeout() {
        ProcessNftExecutor e = sh("exec sleep 30", Duration.ofMillis(300));
        long start = System.nanoTime();
        assertThatThrownBy(() -> e.apply("")).isInstanceOf(FirewallException.class).hasMessageContaining("killed");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aMissingProgramIsAFirewallException() {
        ProcessNftExecutor e = new ProcessNftExecutor(List.of(), "/nonexistent/nft", Duration.ofSeconds(5));
        assertThatThrownBy(() -> e.apply("")).isInstanceOf(FirewallException.class).hasMessageContaining("could not start").hasMessageContaining("/nonexistent/nft");
    }
}
