package dev.certknock.client.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every knocking command shares (a picocli mixin). */
public final class KnockArgs {

    @Option(names = "--bundle", paramLabel = "FILE",
            description = "PKCS#12 bundle with your key, certificate and CA certificate (default: the target's).")
    Path bundle;

    @Option(names = "--alias", paramLabel = "NAME", description = "Key entry to use when the bundle holds several.")
    String alias;

    @Option(names = "--server-cert", paramLabel = "FILE",
            description = "The server's certificate (PEM or DER; intermediates may follow). Default: the target's.")
    Path serverCert;

    @Option(names = "--server-name", paramLabel = "NAME",
            description = "The name the server certificate must carry, when it is not the host knocked on (a server "
                    + "knocked on by its address, say). Default: the target's, else the host.")
    String serverName;

    @Option(names = "--ca-cert", paramLabel = "FILE",
            description = "CA certificate(s) to check the server certificate with, when the bundle carries none.")
    Path caCert;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "Read the bundle password from the first line of FILE (default: the target's passwordFile, "
                    + "else a prompt on the terminal).")
    Path passwordFile;

    @Option(names = "--password-env", paramLabel = "NAME",
            description = "Read the bundle password from environment variable NAME.")
    String passwordEnv;

    @Option(names = "--knock-port", paramLabel = "PORT",
            description = "The server's UDP knock port (default: the target's, else 62201).")
    Integer knockPort;

    @Option(names = "-4", description = "Knock over IPv4 only.")
    boolean ipv4;

    @Option(names = "-6", description = "Knock over IPv6 only.")
    boolean ipv6;

    @Option(names = "--duration", paramLabel = "SECONDS",
            description = "How long to ask the ports to stay open (default: the target's, else 60 or your "
                    + "certificate's maximum if lower).")
    Integer duration;

    @Option(names = "--declare-ip", paramLabel = "ADDR",
            description = "Declare ADDR instead of the address knock chooses (the one the server reported last time, "
                    + "else the local address of the route to the server). At most one IPv4 and one IPv6.")
    List<String> declare = new ArrayList<>();

    @Option(names = "--protocol", paramLabel = "1|2",
            description = "Knock protocol version: 2 (default) signs the address the knock comes from and reads the "
                    + "server's reply; 1 only for a legacy server: declares nothing unless --declare-ip, waits for "
                    + "no reply.")
    Integer protocol;

    @Option(names = "--reply-timeout", paramLabel = "SECONDS",
            description = "How long to wait for the server's reply after each knock (default 1; e.g. 0.5 or 3).")
    String replyTimeout;

    @Option(names = "--no-reply",
            description = "Do not wait for the server's reply (fire and forget): nothing confirms the knock, and "
                    + "behind NAT the address the server sees is not learned.")
    boolean noReply;

    @Option(names = "--address-cache", paramLabel = "FILE",
            description = "Where to remember the address servers see your knocks from (default: "
                    + "$XDG_CACHE_HOME/certknock/observed-addresses.json, else ~/.cache/certknock/...).")
    Path addressCache;

    @Option(names = "--no-address-cache", description = "Neither read nor write the address cache.")
    boolean noAddressCache;

    @Option(names = "--targets", paramLabel = "FILE",
            description = "Targets file (default: $CERTKNOCK_TARGETS, else $XDG_CONFIG_HOME/certknock/targets.yaml, "
                    + "else ~/.config/certknock/targets.yaml).")
    Path targets;

    @Mixin
    TokenArgs token = new TokenArgs();

    @Option(names = {"-v", "--verbose"}, description = "Say more: timestamp, key id, certificates.")
    boolean verbose;
}
