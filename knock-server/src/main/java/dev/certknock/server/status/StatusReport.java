package dev.certknock.server.status;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@code knock-server status} shows: the running server's open grants, CRL freshness per CA key, counters and
 * uptime, as one value; {@link StatusJson} writes and reads it.
 *
 * @param server        the server's name (server.name)
 * @param version       its version, or "development build"
 * @param startedAt     when it started
 * @param at            when the report was made (the server's clock)
 * @param uptimeSeconds seconds since start
 * @param openElements  distinct firewall elements open (address, protocol, port or range)
 * @param reloads       configuration reloads since start, or null (a server that predates them)
 * @param keptRefused   what diagnostics.keepRefused did since start, or null when it is off
 */
public record StatusReport(String server, String version, Instant startedAt, Instant at, long uptimeSeconds,
        Counters counters, int openElements, List<Grant> grants, List<Crl> crls, Reloads reloads,
        KeptRefused keptRefused) {

    public StatusReport {
        grants = List.copyOf(grants);
        crls = List.copyOf(crls);
    }

    /**
     * Reloads since start (SIGHUP); null in a report from a server without reloads.
     *
     * @param applied how many were applied
     * @param refused how many were refused (the running configuration stayed in force)
     * @param lastAt  when the last one ended, or null when there was none
     * @param last    what the last one did ("applied: ..." or "refused: " and the reason), or null
     */
    public record Reloads(long applied, long refused, Instant lastAt, String last) {
    }

    /**
     * What {@code diagnostics.keepRefused} did with refused datagrams since start (docs/CONFIGURATION.md).
     *
     * @param written     kept on disk (a datagram and its sidecar)
     * @param rateLimited not kept: beyond {@code keepRefused.perSecond}
     * @param queueFull   not kept: the writer's queue was full
     * @param failed      not kept: the write failed (the server log says why, once)
     */
    public record KeptRefused(long written, long rateLimited, long queueFull, long failed) {
    }

    /**
     * The counters since start.
     *
     * @param dropped non-zero drop counts by reason (DropReason names), in the order given (the server gives the
     *                catalogue's)
     */
    public record Counters(long received, long accepted, Map<String, Long> dropped, int staleCrlIssuers) {
        public Counters {
            dropped = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(dropped));
        }
    }

    /**
     * One open grant (a decision): the address it opened, the ports, the certificate it was opened for.
     *
     * @param ports  port grants as written in config and certificates, e.g. {@code tcp/22}
     * @param serial the certificate's serial number, hex
     */
    public record Grant(String address, List<String> ports, String subject, String serial, String issuer,
            Instant openedAt, Instant expiresAt) {
        public Grant {
            ports = List.copyOf(ports);
        }
    }

    /**
     * The CRL held for one trusted CA key, or its absence ({@code crlNumber} and the times null).
     *
     * @param keyId the CA key's id (as CrlStore and the cache name it)
     * @param fresh whether the CA's certificates can be checked now (a CRL held, not past nextUpdate plus grace)
     */
    public record Crl(String issuer, String keyId, String crlNumber, Instant thisUpdate, Instant nextUpdate,
            Instant staleAfter, Integer entries, boolean fresh) {
    }
}
