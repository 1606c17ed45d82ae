package dev.certknock.server.firewall;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code log} backend's writer: writes nothing. The {@link GrantLedger} over it keeps exactly the record a
 * kernel backend's ledger keeps (shared elements, expiry, limits, revocation), so a dry run, the demo and
 * {@code verify} report what a real firewall would hold; only the host's firewall is left alone.
 */
public final class LogWriter implements ElementWriter {

    private static final Logger LOG = LoggerFactory.getLogger(LogWriter.class);

    @Override
    public void setUp() {
    }

    @Override
    public void apply(List<ElementChange> batch) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("log backend: {} element change(s) not written: {}", batch.size(), batch);
        }
    }

    @Override
    public List<HeldElement> list() {
        return List.of();
    }

    @Override
    public boolean expiresByItself() {
        return true;
    }

    @Override
    public void warmUp() {
    }

    @Override
    public void removeAll() {
    }

    @Override
    public String describe() {
        return "backend log: grants are recorded, nothing on this host changes";
    }

    @Override
    public void close() {
    }
}
