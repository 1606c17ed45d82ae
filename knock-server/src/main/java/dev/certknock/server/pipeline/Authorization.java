package dev.certknock.server.pipeline;

import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.grant.Holder;

import dev.certknock.server.knock.DropReason;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.KnockContent;
import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.server.config.ServerConfig.DeclaredAddressPolicy;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Decides what to open: every requested grant inside the certificate's grants and inside the server's
 * protected ports; this server named in the certificate's {@code servers} if it lists any; the address
 * inside the certificate's {@code sources} if it lists any. The address: for a v2 knock, its source, and
 * only when the knock declares (so signs) that very address; otherwise nothing opens and the sender is
 * told the address the server saw ({@link KnockReply.AddressNotSigned}), so a copy of the knock re-sent
 * from another address opens nothing there, and a client behind NAT learns its public address. For a v1
 * knock (read only when the operator opts in), the declared-address policy. Duration =
 * min(requested, certificate's maxOpenSeconds or the server default, server maximum, the least maxOpenSeconds
 * the CAs of its path set as bounds, the certificate's remaining validity).
 */
public final class Authorization implements Stage {

    private final String serverName;
    private final List<PortGrant> protectedPorts;
    private final int defaultOpenSeconds;
    private final int maxOpenSeconds;
    private final DeclaredAddressPolicy policy;
    private final RefusedAddresses refused;

    public Authorization(String serverName, List<PortGrant> protectedPorts, int defaultOpenSeconds, int maxOpenSeconds,
            DeclaredAddressPolicy policy) {
        this(serverName, protectedPorts, defaultOpenSeconds, maxOpenSeconds, policy, new RefusedAddresses());
    }

    /** @param refused where a refusal for an unsigned source is remembered, for {@link ReplayLookup} */
    public Authorization(String serverName, List<PortGrant> protectedPorts, int defaultOpenSeconds, int maxOpenSeconds,
            DeclaredAddressPolicy policy, RefusedAddresses refused) {
        this.refused = refused;
        this.serverName = serverName;
        this.protectedPorts = List.copyOf(protectedPorts);
        this.defaultOpenSeconds = defaultOpenSeconds;
        this.maxOpenSeconds = maxOpenSeconds;
        this.policy = policy;
    }

    @Override
    public Outcome apply(KnockContext ctx) {
        KnockContent content = ctx.verified.content();
        CertknockGrants cert = ctx.certificateGrants;
        if (!cert.permitsServer(serverName)) {
            return Outcome.drop(DropReason.WRONG_SERVER, "certificate does not name this server");
        }
        for (PortGrant g : content.grants()) {
            if (!cert.permits(g)) {
                return Outcome.drop(DropReason.GRANT_NOT_IN_CERTIFICATE, "requested grant outside the certificate's grants");
            }
            if (protectedPorts.stream().noneMatch(p -> p.contains(g))) {
                return Outcome.drop(DropReason.GRANT_NOT_PROTECTED, "requested grant outside the server's protected ports");
            }
        }
        InetAddress source = ctx.source().getAddress();
        Optional<InetAddress> declared = declaredFor(content, source);
        InetAddress address;
        if (ctx.verified.version().bindsAddress()) {
            Optional<InetAddress> signed = sameFamily(content, source);
            if (signed.isEmpty() || !Arrays.equals(signed.get().getAddress(), source.getAddress())) {
                ctx.reply = new KnockReply.AddressNotSigned(ctx.now().toEpochMilli(), ctx.source());
                refused.record(ctx.leafFingerprint, content.nonce().toByteArray(), ctx.source());
                return Outcome.drop(DropReason.ADDRESS_NOT_SIGNED, "the source is not the address the knock signs");
            }
            address = source;
        } else {
            switch (policy) {
                case USE_SOURCE -> address = source;
                case PREFER_DECLARED -> address = declared.orElse(source);
                case REQUIRE_DECLARED -> {
                    if (declared.isEmpty()) {
                        return Outcome.drop(DropReason.DECLARED_ADDRESS_REQUIRED, "no declared address");
                    }
                    address = declared.get();
                }
                case MUST_EQUAL_SOURCE -> {
                    // A knock that declares nothing would open for whichever address sends it first.
                    if (declared.isEmpty()) {
                        return Outcome.drop(DropReason.DECLARED_ADDRESS_REQUIRED, "no declared address");
                    }
                    if (!declared.get().equals(source)) {
                        return Outcome.drop(DropReason.DECLARED_ADDRESS_MISMATCH, "declared address differs from the source");
                    }
                    address = source;
                }
                default -> throw new IllegalStateException("unknown policy " + policy);
            }
        }
        if (!cert.permitsSource(address)) {
            return Outcome.drop(DropReason.SOURCE_NOT_ALLOWED, "address outside the certificate's sources");
        }
        X509Certificate leaf = content.certificate();
        long remaining = Duration.between(ctx.now(), leaf.getNotAfter().toInstant()).toSeconds();
        long seconds = Math.min(Math.min(content.durationSeconds(), cert.maxOpenSeconds().orElse(defaultOpenSeconds)),
                Math.min(Math.min(maxOpenSeconds, ctx.caMaxOpenSeconds.orElse(maxOpenSeconds)), remaining));
        if (seconds < 1) {
            return Outcome.drop(DropReason.CERTIFICATE_EXPIRED, "certificate expires within a second");
        }
        ctx.decision = new GrantDecision(address, content.grants(), Duration.ofSeconds(seconds), ctx.now(),
                new Holder(leaf.getSubjectX500Principal(), leaf.getIssuerX500Principal(), ctx.holderPath));
        return Outcome.CONTINUE;
    }

    /** The declared address of the source's family, if there is one. */
    private static Optional<InetAddress> sameFamily(KnockContent c, InetAddress source) {
        return source instanceof Inet4Address ? c.declaredIpv4().map(a -> a) : c.declaredIpv6().map(a -> a);
    }

    /** The declared address of the source's family if there is one, else any declared address. */
    private static Optional<InetAddress> declaredFor(KnockContent c, InetAddress source) {
        Optional<InetAddress> v4 = c.declaredIpv4().map(a -> a);
        Optional<InetAddress> v6 = c.declaredIpv6().map(a -> a);
        if (source instanceof Inet4Address) {
            return v4.isPresent() ? v4 : v6;
        }
        return v6.isPresent() ? v6 : v4;
    }
}
