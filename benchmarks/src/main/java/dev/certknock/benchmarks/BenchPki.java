package dev.certknock.benchmarks;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.knock.ServerPrivateKey;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.KeyType;
import dev.certknock.testing.pki.TestCa;
import java.time.Clock;
import java.util.List;

/**
 * The benchmarks' throwaway PKI: a root CA, a server certificate and its knock key, and the client "alice" granted
 * tcp/22 for 300 s on that server only.
 */
record BenchPki(TestCa ca, IssuedCertificate server, ServerPrivateKey serverKey, IssuedCertificate client) {

    static BenchPki of(Clock clock, String serverName, KeyType serverType, KeyType clientType) {
        TestCa ca = TestCa.root("CN=bench CA", clock);
        IssuedCertificate server = ca.leaf("CN=" + serverName).keyType(serverType).build();
        ServerPrivateKey serverKey = ServerPrivateKey.of(server.privateKey(), server.certificate());
        CertknockGrants grants = CertknockGrants.of(PortGrant.parse("tcp/22")).withMaxOpenSeconds(300)
                .withServers(List.of(serverName));
        IssuedCertificate client = ca.leaf("CN=alice").keyType(clientType).extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(grants)).build();
        return new BenchPki(ca, server, serverKey, client);
    }
}
