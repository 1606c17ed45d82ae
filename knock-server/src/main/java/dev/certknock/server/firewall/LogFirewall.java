package dev.certknock.server.firewall;

import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.event.LogText;
import dev.certknock.server.grant.GrantDecision;
import java.math.BigInteger;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code log} backend: records grants and keeps track of what would be open, with the same
 * semantics as a real firewall (idempotent refresh, expiry, closing a revoked certificate's grants),
 * but changes nothing on the host. For dry runs, the unprivileged demo and tests.
 */
public final class LogFirewall implements Firewall {

    private static final Logger LOG = LoggerFactory.getLogger(LogFirewall.class);

    /** One open port range for one address: what a real backend would hold as one set element. */
    private record Element(InetAddress address, PortGrant grant) {
    }

    private final Clock clock;
    private final KnockEventListener listener;
    private final int maxEntries;
    private final Map<Element, GrantDecision> open = new HashMap<>();

    public LogFirewall(Clock clock, KnockEventListener listener, int maxEntries) {
        this.clock = clock;
        this.listener = listener;
        this.maxEntries = maxEntries;
    }

    @Override
    public synchronized void open(GrantDecision d) throws FirewallException {
        expire(clock.instant());
        List<Element> elements = new ArrayList<>();
        for (PortGrant g : d.grants()) {
            elements.add(new Element(d.address(), g));
        }
        long adding = elements.stream().filter(e -> !open.containsKey(e)).count();
        if (open.size() + adding > maxEntries) {
            throw new FirewallException("the grant table is full (" + maxEntries + " entries)", null);
        }
        for (Element e : elements) {
            open.put(e, d);
        }
        LOG.info("GRANT {} {} for {} s (until {}) to {} serial {}", d.address().getHostAddress(), d.grants(),
                d.duration().toSeconds(), d.expiresAt(), LogText.of(d.subject().getName()), d.serial().toString(16));
        listener.grantOpened(d);
    }

    @Override
    public synchronized int closeCertificate(X500Principal issuer, BigInteger serial) {
        Set<GrantDecision> closed = new LinkedHashSet<>();
        for (Iterator<Map.Entry<Element, GrantDecision>> it = open.entrySet().iterator(); it.hasNext();) {
            GrantDecision d = it.next().getValue();
            if (d.serial().equals(serial) && d.issuer().equals(issuer)) {
                it.remove();
                closed.add(d);
            }
        }
        for (GrantDecision d : closed) {
            LOG.info("CLOSE {} {} (certificate serial {} revoked)", d.address().getHostAddress(), d.grants(),
                    serial.toString(16));
            listener.grantClosed(d, "revoked");
        }
        return closed.size();
    }

    @Override
    public synchronized List<GrantDecision> active(Instant now) {
        expire(now);
        return open.values().stream().distinct().toList();
    }

    private void expire(Instant now) {
        Set<GrantDecision> expired = new LinkedHashSet<>();
        for (Iterator<Map.Entry<Element, GrantDecision>> it = open.entrySet().iterator(); it.hasNext();) {
            GrantDecision d = it.next().getValue();
            if (!d.expiresAt().isAfter(now)) {
                it.remove();
                expired.add(d);
            }
        }
        expired.forEach(d -> listener.grantClosed(d, "expired"));
    }

    @Override
    public synchronized void close() {
        open.clear();
    }
}
