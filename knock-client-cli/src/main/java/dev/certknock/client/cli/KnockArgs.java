package dev.certknock.client.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    @Option(names = "--ca-cert", paramLabel = "FILE",
            description = "CA certificate(s) to check the server certificate with, when the bundle carries none.")
    Path caCert;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "Read the bundle password from the first line of FILE.")
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

    @Option(names = "--declare-ip", paramLabel = "ADDR|auto",
            description = "Ask the server to open the ports for ADDR instead of the packet's source address; "
                    + "'auto' declares the local address of the route to the server. At most one IPv4 and one IPv6.")
    List<String> declare = new ArrayList<>();

    @Option(names = "--targets", paramLabel = "FILE",
            description = "Targets file (default: $CERTKNOCK_TARGETS, else ~/.config/certknock/targets.yaml).")
    Path targets;

    @Option(names = {"-v", "--verbose"}, description = "Say more: timestamp, key id, certificates.")
    boolean verbose;
}
