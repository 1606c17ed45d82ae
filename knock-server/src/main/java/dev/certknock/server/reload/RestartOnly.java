package dev.certknock.server.reload;

import dev.certknock.server.config.ServerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The settings a reload cannot change, because what they configure is built once at start and holds state that
 * must survive a reload (the capture, the firewall table and its rules, the replay state, the queue and the rate
 * limits, the sockets): a reload that changes any of them is refused, naming each key, and the running
 * configuration stays in force. Everything else (server name and identities, trust, crl, the knock policy) is
 * reloaded. docs/CONFIGURATION.md, "Reload", lists both.
 */
public final class RestartOnly {

    private RestartOnly() {
    }

    /** The keys, in configuration order, whose values differ and need a restart; empty when a reload may go on. */
    public static List<String> changed(ServerConfig before, ServerConfig after) {
        List<String> keys = new ArrayList<>();
        ServerConfig.Capture c0 = before.capture();
        ServerConfig.Capture c1 = after.capture();
        differ(keys, "capture.mode", c0.mode(), c1.mode());
        differ(keys, "capture.interface", c0.iface(), c1.iface());
        differ(keys, "capture.address", c0.address(), c1.address());
        differ(keys, "capture.port", c0.port(), c1.port());
        differ(keys, "protect", before.protect(), after.protect());
        ServerConfig.Firewall f0 = before.firewall();
        ServerConfig.Firewall f1 = after.firewall();
        differ(keys, "firewall.backend", f0.backend(), f1.backend());
        differ(keys, "firewall.table", f0.table(), f1.table());
        differ(keys, "firewall.onStop", f0.onStop(), f1.onStop());
        differ(keys, "firewall.reject", f0.reject(), f1.reject());
        differ(keys, "firewall.command", f0.command(), f1.command());
        differ(keys, "firewall.cutOnRevoke", f0.cutOnRevoke(), f1.cutOnRevoke());
        differ(keys, "firewall.maxElements", f0.maxElements(), f1.maxElements());
        differ(keys, "firewall.maxElementsPerCertificate", f0.maxElementsPerCertificate(), f1.maxElementsPerCertificate());
        ServerConfig.Knock k0 = before.knock();
        ServerConfig.Knock k1 = after.knock();
        differ(keys, "knock.timestampWindow", k0.timestampWindow(), k1.timestampWindow());
        differ(keys, "knock.replayJournal", k0.replayJournal().toAbsolutePath(), k1.replayJournal().toAbsolutePath());
        differ(keys, "knock.replayCapacity", k0.replayCapacity(), k1.replayCapacity());
        differ(keys, "knock.replies", k0.replies(), k1.replies());
        differ(keys, "knock.repliesPerSecond", k0.repliesPerSecond(), k1.repliesPerSecond());
        differ(keys, "knock.replayStore", k0.replayStore(), k1.replayStore());
        differ(keys, "knock.replayStoreTimeout", k0.replayStoreTimeout(), k1.replayStoreTimeout());
        differ(keys, "knock.replayStoreOutage", k0.replayStoreOutage(), k1.replayStoreOutage());
        ServerConfig.Limits l0 = before.limits();
        ServerConfig.Limits l1 = after.limits();
        differ(keys, "limits.perSourcePerSecond", l0.perSourcePerSecond(), l1.perSourcePerSecond());
        differ(keys, "limits.perSourceBurst", l0.perSourceBurst(), l1.perSourceBurst());
        differ(keys, "limits.publicKeyOpsPerSecond", l0.publicKeyOpsPerSecond(), l1.publicKeyOpsPerSecond());
        differ(keys, "limits.queueCapacity", l0.queueCapacity(), l1.queueCapacity());
        differ(keys, "limits.workers", l0.workers(), l1.workers());
        differ(keys, "limits.trackedSources", l0.trackedSources(), l1.trackedSources());
        differ(keys, "logging.audit", abs(before.logging().audit()), abs(after.logging().audit()));
        differ(keys, "logging.statsInterval", before.logging().statsInterval(), after.logging().statsInterval());
        differ(keys, "metrics", before.metrics(), after.metrics());
        differ(keys, "diagnostics.keepRefused", before.diagnostics().keepRefused(), after.diagnostics().keepRefused());
        differ(keys, "status.socket", before.statusSocket().toAbsolutePath(), after.statusSocket().toAbsolutePath());
        return keys;
    }

    /** The operator's message for a refused reload: each key, and what to do. */
    public static String message(List<String> keys) {
        return "the new configuration changes " + String.join(", ", keys) + ", which only a restart can change "
                + "(the running server keeps its capture, firewall table, replay state, queue, rate limits and sockets "
                + "across a reload): put back the running value" + (keys.size() == 1 ? "" : "s")
                + " and reload, or restart the server to apply "
                + (keys.size() == 1 ? "it" : "them");
    }

    private static java.nio.file.Path abs(java.nio.file.Path p) {
        return p == null ? null : p.toAbsolutePath();
    }

    private static void differ(List<String> keys, String key, Object before, Object after) {
        if (!Objects.equals(before, after)) {
            keys.add(key);
        }
    }
}
