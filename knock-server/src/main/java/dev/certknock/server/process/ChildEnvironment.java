package dev.certknock.server.process;

import java.util.Map;

/**
 * The environment of every program the server starts (nft, iptables and ipset, conntrack, the command
 * backend's commands): {@code PATH} and the C locale, nothing else. The server's own environment can hold
 * secrets (the bundle password of {@code passwordEnv}, whatever the service manager set) that no child
 * needs, so children never inherit it.
 */
public final class ChildEnvironment {

    /** PATH when the server has none. */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private ChildEnvironment() {
    }

    /** The variables a child gets: the server's {@code PATH} (or {@link #DEFAULT_PATH}), {@code LANG=C}, {@code LC_ALL=C}. */
    public static Map<String, String> from(Map<String, String> server) {
        String path = server.get("PATH");
        return Map.of("PATH", path == null || path.isBlank() ? DEFAULT_PATH : path, "LANG", "C", "LC_ALL", "C");
    }

    /** Replaces the builder's environment (a copy of the server's) with {@link #from} it, and returns the builder. */
    public static ProcessBuilder applyTo(ProcessBuilder builder) {
        Map<String, String> env = builder.environment();
        Map<String, String> clean = from(env);
        env.clear();
        env.putAll(clean);
        return builder;
    }
}
