package dev.certknock.server.process;

import dev.certknock.server.firewall.nftables.ProcessNftExecutor;
import java.time.Duration;
import java.util.List;

/**
 * Run in a JVM of its own by {@link ChildEnvironmentTest}, whose environment holds a secret: prints whether
 * this JVM sees it, then what {@code env} prints when started by each of the server's process runners.
 */
public final class ChildEnvironmentProbe {

    private ChildEnvironmentProbe() {
    }

    public static void main(String[] args) throws Exception {
        String name = args[0];
        System.out.println("jvm-sees-secret=" + (System.getenv(name) != null));
        ProcessRunner.Result r = new ProcessRunner(List.of(), Duration.ofSeconds(10)).run(List.of("env"));
        System.out.println("--- ProcessRunner (command backend, iptables, conntrack) exit " + r.exitCode());
        System.out.print(r.stdout());
        System.out.println("--- ProcessNftExecutor");
        System.out.print(new ProcessNftExecutor(List.of(), "env", Duration.ofSeconds(10)).query(List.of()));
        System.out.println("--- end");
    }
}
