package dev.certknock.benchmarks;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.server.config.ConfigLoader;
import dev.certknock.server.config.ServerConfig;
import dev.certknock.server.crl.CrlStore;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * The benchmarks' throwaway PKI: a root CA, a server certificate and its knock key, and the client "alice" granted
 * tcp/22 for 300 s on that server only.
 */
record BenchPki(String serverName, TestCa ca, IssuedCertificate server, ServerPrivateKey serverKey, IssuedCertificate client) {

    static BenchPki of(Clock clock, String serverName, KeyType serverType, KeyType clientType) {
        TestCa ca = TestCa.root("CN=bench CA", clock);
        IssuedCertificate server = ca.leaf("CN=" + serverName).keyType(serverType).build();
        ServerPrivateKey serverKey = ServerPrivateKey.of(server.privateKey(), server.certificate());
        CertknockGrants grants = CertknockGrants.of(PortGrant.parse("tcp/22")).withMaxOpenSeconds(300)
                .withServers(List.of(serverName));
        IssuedCertificate client = ca.leaf("CN=alice").keyType(clientType).extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(grants)).build();
        return new BenchPki(serverName, ca, server, serverKey, client);
    }

    /**
     * A server configuration for this server name that trusts the CA and protects tcp/22, with {@code sections}
     * (YAML at the top level: {@code knock:}, {@code limits:}) after it. Parsed, not loaded: nothing it names is read.
     */
    ServerConfig config(String sections) {
        String yaml = """
                server:
                  name: %s
                  identities: [{bundle: s.p12, passwordEnv: PW}]
                trust:
                  anchors: [ca.pem]
                protect: [tcp/22]
                """.formatted(serverName)
                + sections;
        try {
            return ConfigLoader.parse(Path.of("bench.yaml"), yaml, Path.of("/"));
        } catch (dev.certknock.server.config.ConfigException e) {
            throw new IllegalStateException("the benchmark's configuration: " + e.getMessage(), e);
        }
    }

    /** A CRL store that holds the CA's current (empty) CRL. */
    CrlStore crls(Clock clock, ServerConfig config) throws java.security.cert.CRLException {
        CrlStore crls = new CrlStore(List.of(ca.certificate()), clock, config.crl().staleGrace());
        crls.offer(ca.crl().build().getEncoded(), "bench");
        return crls;
    }
}
