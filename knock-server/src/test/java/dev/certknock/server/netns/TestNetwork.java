package dev.certknock.server.netns;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Test hosts in network namespaces this test creates: a server joined to two clients by two veth pairs,
 * with TEST-NET addresses (192.0.2.0/24 and 198.51.100.0/24, 2001:db8:1::/64 and 2001:db8:2::/64)
 * that exist only inside these namespaces. {@link #close()} deletes every namespace, also after a
 * failure. Requires root and iproute2; {@link #requireRoot()} skips the test with a message otherwise.
 */
public final class TestNetwork implements AutoCloseable {

    public static final String SERVER4_LINK1 = "192.0.2.1";
    public static final String CLIENT1_4 = "192.0.2.2";
    public static final String SERVER4_LINK2 = "198.51.100.1";
    public static final String CLIENT2_4 = "198.51.100.2";
    public static final String SERVER6_LINK1 = "2001:db8:1::1";
    public static final String CLIENT1_6 = "2001:db8:1::2";
    public static final String SERVER6_LINK2 = "2001:db8:2::1";
    public static final String CLIENT2_6 = "2001:db8:2::2";

    public final String server;
    public final String client1;
    public final String client2;
    private final List<String> created = new ArrayList<>();

    private TestNetwork(String id) {
        server = "ck-srv-" + id;
        client1 = "ck-c1-" + id;
        client2 = "ck-c2-" + id;
    }

    /** Skips the calling test unless it runs as root with the given tools on the PATH. */
    public static void requireRoot(String... tools) {
        assumeTrue("root".equals(System.getProperty("user.name")), "skipped: network namespace tests need root");
        for (String tool : tools) {
            assumeTrue(exitCode(List.of("sh", "-c", "command -v " + tool)) == 0,
                    "skipped: " + tool + " is not installed (.ci/run installs it)");
        }
    }

    /** Skips the calling test unless pcap4j can load libpcap (the server captures with it). */
    public static void requireLibpcap() {
        String version;
        try {
            version = org.pcap4j.core.Pcaps.libVersion();
        } catch (LinkageError e) { // UnsatisfiedLinkError and the like when the library is absent
            version = "not loadable: " + e;
        }
        assumeTrue(version.startsWith("libpcap"), "skipped: libpcap is not loadable (" + version
                + "; .ci/run installs libpcap0.8)");
    }

    public static TestNetwork create() throws IOException, InterruptedException {
        TestNetwork n = new TestNetwork(Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff)));
        try {
            for (String ns : List.of(n.server, n.client1, n.client2)) {
                run("ip", "netns", "add", ns);
                n.created.add(ns);
                run("ip", "-n", ns, "link", "set", "lo", "up");
            }
            n.link("1", n.client1, SERVER4_LINK1, CLIENT1_4, SERVER6_LINK1, CLIENT1_6);
            n.link("2", n.client2, SERVER4_LINK2, CLIENT2_4, SERVER6_LINK2, CLIENT2_6);
            return n;
        } catch (IOException | InterruptedException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void link(String k, String client, String s4, String c4, String s6, String c6)
            throws IOException, InterruptedException {
        String sdev = "ck-s" + k;
        String cdev = "ck-c" + k;
        run("ip", "link", "add", sdev, "netns", server, "type", "veth", "peer", "name", cdev, "netns", client);
        run("ip", "-n", server, "addr", "add", s4 + "/24", "dev", sdev);
        run("ip", "-n", client, "addr", "add", c4 + "/24", "dev", cdev);
        run("ip", "-n", server, "-6", "addr", "add", s6 + "/64", "dev", sdev, "nodad");
        run("ip", "-n", client, "-6", "addr", "add", c6 + "/64", "dev", cdev, "nodad");
        run("ip", "-n", server, "link", "set", sdev, "up");
        run("ip", "-n", client, "link", "set", cdev, "up");
    }

    /** The private address of the client behind NAT ({@link #addNattedClient}). */
    public static final String NATTED_4 = "10.99.0.2";

    /**
     * A fourth namespace behind client 2, which routes it to the server through a masquerading NAT (nftables in
     * client 2's namespace): its packets reach the server from {@link #CLIENT2_4}, while the client itself knows
     * only {@link #NATTED_4}. Deleted with the others.
     *
     * @return the new namespace's name
     */
    public String addNattedClient() throws IOException, InterruptedException {
        String ns = client2.replace("ck-c2-", "ck-nat-");
        run("ip", "netns", "add", ns);
        created.add(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
        run("ip", "link", "add", "ck-n0", "netns", client2, "type", "veth", "peer", "name", "ck-n1", "netns", ns);
        run("ip", "-n", client2, "addr", "add", "10.99.0.1/24", "dev", "ck-n0");
        run("ip", "-n", ns, "addr", "add", NATTED_4 + "/24", "dev", "ck-n1");
        run("ip", "-n", client2, "link", "set", "ck-n0", "up");
        run("ip", "-n", ns, "link", "set", "ck-n1", "up");
        run("ip", "-n", ns, "route", "add", "default", "via", "10.99.0.1");
        run("ip", "netns", "exec", client2, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        run("ip", "netns", "exec", client2, "nft", "add table ip ck_nat; add chain ip ck_nat post { type nat hook "
                + "postrouting priority 100; }; add rule ip ck_nat post oifname \"ck-c2\" masquerade");
        return ns;
    }

    /** The java program running this test, to start a child JVM (for example inside a namespace). */
    public static String javaCommand() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    /** The test class path, for a child JVM that runs a test's main class. */
    public static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    /** A command inside a namespace, as an argv list for ProcessBuilder. */
    public static List<String> in(String ns, String... command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        return argv;
    }

    /** Runs a command and returns its exit code (output discarded), killing it after 30 s. */
    public static int exitCode(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Runs a command; fails with its output when it fails. */
    public static String run(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        for (String ns : created) {
            exitCode(List.of("ip", "netns", "del", ns));
        }
        created.clear();
    }
}
