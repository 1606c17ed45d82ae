package dev.certknock.server.event;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.pipeline.GrantDecision;
import dev.certknock.server.pipeline.KnockContext;
import dev.certknock.server.pipeline.Verdict;
import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: one JSON object per line for every accepted knock, grant opened and closed, CRL event,
 * and dropped knock (drops limited to {@code dropsPerSecond} lines, the rest counted in the next line's
 * {@code suppressed}). Times are UTC ISO-8601. Thread-safe; flushed after each line.
 */
public final class AuditLog implements KnockEventListener, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Writer out;
    private final Clock clock;
    private final int dropsPerSecond;
    private long dropSecond = -1;
    private int dropsInSecond;
    private long suppressed;

    public AuditLog(Writer out, Clock clock, int dropsPerSecond) {
        this.out = out;
        this.clock = clock;
        this.dropsPerSecond = dropsPerSecond;
    }

    public static AuditLog open(Path file, Clock clock) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        return new AuditLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, StandardOpenOption.WRITE), clock, 20);
    }

    private ObjectNode event(String kind) {
        ObjectNode n = JSON.createObjectNode();
        n.put("time", Instant.ofEpochMilli(clock.millis()).toString());
        n.put("event", kind);
        return n;
    }

    private static void decision(ObjectNode n, GrantDecision d) {
        n.put("address", d.address().getHostAddress());
        n.put("subject", d.subject().getName());
        n.put("issuer", d.issuer().getName());
        n.put("serial", d.serial().toString(16));
        var grants = n.putArray("grants");
        for (PortGrant g : d.grants()) {
            grants.add(g.toString());
        }
        n.put("durationSeconds", d.duration().toSeconds());
        n.put("expiresAt", d.expiresAt().toString());
    }

    @Override
    public void accepted(Verdict.Accepted v, KnockContext context) {
        ObjectNode n = event("accepted");
        n.put("source", v.source().getAddress().getHostAddress());
        decision(n, v.decision());
        write(n);
    }

    @Override
    public void dropped(Verdict.Dropped v, KnockContext context) {
        ObjectNode n;
        synchronized (this) {
            long second = clock.millis() / 1000;
            if (second != dropSecond) {
                dropSecond = second;
                dropsInSecond = 0;
            }
            if (++dropsInSecond > dropsPerSecond) {
                suppressed++;
                return;
            }
            n = event("dropped");
            if (suppressed > 0) {
                n.put("suppressed", suppressed);
                suppressed = 0;
            }
        }
        n.put("source", v.source().getAddress().getHostAddress());
        n.put("reason", v.reason().name());
        n.put("stage", v.stage());
        if (context != null && context.verified() != null) {
            n.put("subject", context.verified().content().certificate().getSubjectX500Principal().getName());
            n.put("serial", context.verified().content().certificate().getSerialNumber().toString(16));
        }
        write(n);
    }

    @Override
    public void grantOpened(GrantDecision d) {
        ObjectNode n = event("grant-opened");
        decision(n, d);
        write(n);
    }

    @Override
    public void grantClosed(GrantDecision d, String why) {
        ObjectNode n = event("grant-closed");
        n.put("why", why);
        decision(n, d);
        write(n);
    }

    @Override
    public void crlAccepted(javax.security.auth.x500.X500Principal issuer, BigInteger number, int newlyRevoked) {
        ObjectNode n = event("crl-accepted");
        n.put("issuer", issuer.getName());
        n.put("crlNumber", number.toString());
        n.put("newlyRevoked", newlyRevoked);
        write(n);
    }

    @Override
    public void crlFailed(String origin, String reason) {
        ObjectNode n = event("crl-failed");
        n.put("origin", origin);
        n.put("reason", reason);
        write(n);
    }

    @Override
    public void crlFreshness(javax.security.auth.x500.X500Principal issuer, boolean fresh) {
        ObjectNode n = event(fresh ? "crl-fresh" : "crl-stale");
        n.put("issuer", issuer.getName());
        write(n);
    }

    private synchronized void write(ObjectNode n) {
        try {
            out.write(JSON.writeValueAsString(n));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            LOG.warn("cannot write the audit log: {}", e.toString());
        }
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
