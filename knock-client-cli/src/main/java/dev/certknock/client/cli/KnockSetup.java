package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import dev.certknock.client.cli.target.TargetEntry;
import dev.certknock.client.cli.target.TargetStore;
import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.client.knock.IpPreference;
import dev.certknock.client.knock.KnockClient;
import dev.certknock.client.knock.KnockException;
import dev.certknock.client.knock.KnockOptions;
import dev.certknock.client.knock.KnockTarget;
import dev.certknock.client.knock.ObservedAddressCache;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.Protocol;
import dev.certknock.protocol.knock.KnockVersion;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Turns the command line (and the named target, if any) into a ready {@link KnockClient}, the grants and the
 * options: the part every knocking command shares. Knows nothing of output.
 */
final class KnockSetup {

    /** What to knock with, where, and for what. */
    record Plan(KnockClient client, List<PortGrant> grants, KnockOptions options, Optional<String> targetName,
            Path bundle) {
    }

    private KnockSetup() {
    }

    /**
     * @param hostOrTarget a target name from the targets file, or a host
     * @param grantTexts grants named on the command line (may be empty)
     * @param fallbackGrants grants when none are named and the target has none; null: that is an error
     * @param warnings where one-line warnings go (an address cache file that cannot be used, a certificate that
     *                 expires within a day)
     */
    static Plan plan(KnockArgs args, CliContext context, String hostOrTarget, List<String> grantTexts,
            Supplier<List<PortGrant>> fallbackGrants, Consumer<String> warnings) {
        return plan(args, context, hostOrTarget, grantTexts, fallbackGrants, 0, warnings);
    }

    /**
     * As above, for a connection to TCP port {@code tcpPort} (ssh-proxy; 0: none): grants named on the command line
     * must include one that contains it, and of the target's default grants only those that contain it are asked
     * for; none is an error, before the password is asked for.
     */
    static Plan plan(KnockArgs args, CliContext context, String hostOrTarget, List<String> grantTexts,
            Supplier<List<PortGrant>> fallbackGrants, int tcpPort, Consumer<String> warnings) {
        TargetStore store = new TargetStore(TargetStore.locate(args.targets, context.env(), context.home()));
        Optional<TargetEntry> named = store.find(hostOrTarget);
        TargetEntry t = named.orElse(null);
        String host = t != null ? t.host() : hostOrTarget;
        boolean onToken = args.token.used();
        if (onToken && args.bundle != null) {
            throw new UserException(ExitCodes.USAGE, "give --bundle or --pkcs11-module (a key on a token), not both");
        }
        Path bundle = onToken ? null : args.bundle != null ? args.bundle
                : t != null && t.bundle() != null ? Path.of(t.bundle()) : null;
        Path serverCert = args.serverCert != null ? args.serverCert
                : t != null && t.serverCert() != null ? Path.of(t.serverCert()) : null;
        Path caCert = args.caCert != null ? args.caCert : t != null && t.caCert() != null ? Path.of(t.caCert()) : null;
        String alias = args.alias != null ? args.alias : t != null ? t.alias() : null;
        if ((bundle == null && !onToken) || serverCert == null) {
            String missing = bundle == null && serverCert == null ? "--bundle and --server-cert"
                    : bundle == null ? "--bundle" : "--server-cert";
            throw new UserException(ExitCodes.USAGE, "'" + hostOrTarget + "' is not a target in " + store.file()
                    + (named.isPresent() ? " with a bundle and a server certificate" : "")
                    + ": to knock on it as a host, give " + missing + " (or add it: knock target add)");
        }
        int knockPort = args.knockPort != null ? args.knockPort
                : t != null && t.port() != null ? t.port() : KnockTarget.DEFAULT_KNOCK_PORT;
        if (args.ipv4 && args.ipv6) {
            throw new UserException(ExitCodes.USAGE, "give -4 or -6, not both");
        }
        IpPreference preference = args.ipv4 ? IpPreference.IPV4 : args.ipv6 ? IpPreference.IPV6 : IpPreference.ANY;

        List<PortGrant> grants = parseGrants(grantTexts);
        PortGrant wanted = tcpPort > 0 ? PortGrant.single(Protocol.TCP, tcpPort) : null;
        if (wanted != null && !grants.isEmpty() && grants.stream().noneMatch(g -> g.contains(wanted))) {
            throw new UserException(ExitCodes.USAGE, "none of the grants named (" + String.join(" ", grantTexts)
                    + ") contains " + wanted + ", the port to connect to: name a grant that contains it, or leave the "
                    + "grants out");
        }
        if (grants.isEmpty() && t != null && !t.grants().isEmpty()) {
            grants = parseGrants(t.grants());
            if (wanted != null) {
                List<PortGrant> containing = grants.stream().filter(g -> g.contains(wanted)).toList();
                if (containing.isEmpty()) {
                    throw new UserException(ExitCodes.USAGE, "target " + hostOrTarget + " asks for "
                            + String.join(" ", t.grants()) + " by default, and none contains " + wanted
                            + ", the port ssh connects to: connect to a port of the target's grants (ssh -p), name "
                            + "the grant after the port (knock ssh-proxy " + hostOrTarget + " %p " + wanted
                            + "), or add it to the target (knock target add --force ... --grant " + wanted + ")");
                }
                grants = containing;
            }
        }
        if (grants.isEmpty() && fallbackGrants != null) {
            grants = fallbackGrants.get();
        }
        if (grants.isEmpty()) {
            throw new UserException(ExitCodes.USAGE, "no grants to ask for: name them, e.g. knock " + hostOrTarget
                    + " tcp/22" + (t != null ? ", or give the target default grants (knock target add --grant)" : ""));
        }
        KnockOptions options = protocolOptions(args);
        Integer duration = args.duration != null ? args.duration : t != null ? t.duration() : null;
        if (duration != null) {
            options = options.withDurationSeconds(duration);
        }
        for (String d : args.declare) {
            if ("auto".equalsIgnoreCase(d)) {
                throw new UserException(ExitCodes.USAGE, "--declare-ip auto is gone: a knock v2 declares the local "
                        + "address of the route to the server (or the address the server last reported) by itself; "
                        + "leave --declare-ip out");
            }
            options = options.withDeclaredAddress(parseAddress(d));
        }

        Path targetPasswordFile = t != null && t.passwordFile() != null ? Path.of(t.passwordFile()) : null;
        // The server certificate is read on a second thread while the bundle opens, when nothing is asked on the
        // terminal (DESIGN.md D42): its failures still come first, and before any prompt, as when it was read first.
        boolean prompts = onToken || Passwords.prompts(args, targetPasswordFile);
        ServerCertificateRead serverRead = new ServerCertificateRead(serverCert, !prompts);
        ClientIdentity identity = null;
        RuntimeException identityFailure = null;
        if (prompts) {
            serverRead.result();
        }
        try {
            identity = onToken ? TokenIdentity.load(args.token, context)
                    : fromBundle(args, context, bundle, alias, targetPasswordFile);
        } catch (RuntimeException e) {
            identityFailure = e;
        }
        List<X509Certificate> serverCertificates = serverRead.result();
        KnockTarget target;
        try {
            target = new KnockTarget(host, knockPort, serverCertificates, preference);
        } catch (IllegalArgumentException e) {
            throw new UserException(ExitCodes.BAD_INPUT, e.getMessage(), e);
        }
        if (identityFailure != null) {
            throw identityFailure;
        }
        CertificateExpiry.check(identity.certificate(), Clock.systemUTC().instant(), warnings);
        if (caCert != null) {
            identity = identity.withTrustAnchors(CertificateFiles.read(caCert, "CA certificate"));
        }
        ObservedAddressCache cache = args.noAddressCache ? ObservedAddressCache.NONE
                : new FileObservedAddressCache(FileObservedAddressCache.locate(args.addressCache, context.env(),
                        context.home()), Clock.systemUTC(), warnings);
        String serverName = args.serverName != null ? args.serverName : t != null ? t.serverName() : null;
        KnockClient.Builder builder = KnockClient.builder(identity, target).observedAddresses(cache);
        if (serverName != null) {
            if (serverName.isBlank()) {
                throw new UserException(ExitCodes.USAGE, "--server-name is empty: give the name the server certificate "
                        + "carries");
            }
            builder.serverName(serverName);
        }
        try {
            return new Plan(builder.build(), grants, options, named.map(x -> hostOrTarget), bundle);
        } catch (KnockException e) {
            throw Failures.of(e);
        }
    }

    private static ClientIdentity fromBundle(KnockArgs args, CliContext context, Path bundle, String alias,
            Path targetPasswordFile) {
        char[] password = Passwords.read(args, context, bundle, targetPasswordFile);
        try {
            return ClientIdentity.fromPkcs12(bundle, password, alias);
        } catch (IdentityException e) {
            throw Failures.of(e);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    /** The protocol version and reply waiting of the command line, checked for contradictions. */
    static KnockOptions protocolOptions(KnockArgs args) {
        KnockOptions options = KnockOptions.defaults();
        if (args.protocol != null) {
            options = switch (args.protocol) {
                case 1 -> options.withVersion(KnockVersion.V1);
                case 2 -> options;
                default -> throw new UserException(ExitCodes.USAGE, "--protocol is 1 or 2, not " + args.protocol);
            };
        }
        if (args.addressCache != null && args.noAddressCache) {
            throw new UserException(ExitCodes.USAGE, "give --address-cache or --no-address-cache, not both");
        }
        if (args.noReply) {
            options = options.withoutReply();
        }
        if (args.replyTimeout != null) {
            if (args.noReply || options.version() == KnockVersion.V1) {
                throw new UserException(ExitCodes.USAGE, "--reply-timeout: " + (args.noReply
                        ? "--no-reply waits for no reply" : "a v1 server never replies (--protocol 1)"));
            }
            options = options.withReplyTimeout(parseSeconds(args.replyTimeout));
        }
        return options;
    }

    private static Duration parseSeconds(String text) {
        try {
            BigDecimal seconds = new BigDecimal(text.trim());
            long millis = seconds.movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
            if (millis >= 1 && millis <= KnockOptions.MAX_REPLY_TIMEOUT.toMillis()) {
                return Duration.ofMillis(millis);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // the message below
        }
        throw new UserException(ExitCodes.USAGE, "--reply-timeout " + text + " is not a number of seconds from 0.001 to "
                + KnockOptions.MAX_REPLY_TIMEOUT.toSeconds());
    }

    static List<PortGrant> parseGrants(List<String> texts) {
        List<PortGrant> grants = new ArrayList<>();
        for (String g : texts) {
            try {
                grants.add(PortGrant.parse(g));
            } catch (IllegalArgumentException e) {
                throw new UserException(ExitCodes.USAGE, e.getMessage(), e);
            }
        }
        return grants;
    }

    /** An IP literal only: a declared address is never looked up by name. */
    private static InetAddress parseAddress(String text) {
        boolean literal = text.indexOf(':') >= 0 || text.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (literal) {
            try {
                return InetAddress.getByName(text);
            } catch (UnknownHostException e) {
                // fall through to the message below
            }
        }
        throw new UserException(ExitCodes.USAGE, "--declare-ip " + text + " is not an IPv4 or IPv6 address");
    }
}
