package dev.certknock.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.protocol.grant.SourcePrefix;
import dev.certknock.protocol.knock.KnockRequest;
import dev.certknock.server.ServerFixture;
import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code knock-server verify} on knocks under a CA with a bound: the whole pipeline, the opening cut to the bound's
 * maxOpenSeconds, and a refusal that says which CA's bound was crossed and how.
 */
class VerifyCaBoundTest {

    @TempDir
    Path dir;

    private final ServerFixture f = new ServerFixture();
    /** tcp/5432 on servers *.example.test (the fixture's server is gw1.example.test) from 198.51.100.0/24, 600 s. */
    private final TestCa dbCa = f.ca.intermediate("CN=database team CA").pathLength(0)
            .extension(CertknockOids.GRANTS_EXTENSION.getId(), false, GrantsExtension.encode(
                    CertknockGrants.of(PortGrant.parse("tcp/5432")).withMaxOpenSeconds(600)
                            .withServers(List.of("*.example.test"))
                            .withSources(List.of(SourcePrefix.parse("198.51.100.0/24")))))
            .build();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private Path config;

    @BeforeEach
    void config() throws Exception {
        config = f.writeConfig(dir, f.ca.crl().build(), "");
        Files.writeString(dir.resolve("db-ca.pem"), ServerFixture.pem("CERTIFICATE", dbCa.certificate().getEncoded()));
        Files.write(dir.resolve("db-crl.der"), dbCa.crl().build().getEncoded());
        String yaml = Files.readString(config);
        String crl = "    - url: " + dir.resolve("crl.der").toUri();
        Files.writeString(config, yaml.replace("protect: [tcp/22, udp/8000-8100]", "protect: [tcp/22, tcp/5432, udp/8000-8100]")
                .replace("  anchors: [ca.pem]", "  anchors: [ca.pem]\n  intermediates: [db-ca.pem]")
                .replace(crl, crl + "\n    - url: " + dir.resolve("db-crl.der").toUri()));
    }

    private int verify(IssuedCertificate client, int seconds) throws Exception {
        Path packet = dir.resolve("knock.bin");
        Files.write(packet, f.knock(client, KnockRequest.of(seconds, List.of(PortGrant.parse("tcp/5432")))));
        return KnockServerCommand.run(new PrintWriter(out), new PrintWriter(err), "verify", "--config", config.toString(),
                "--source", "198.51.100.7", "--at", "packet", packet.toString());
    }

    /**
     * The leaf alone: the server holds the intermediate ({@code trust.intermediates}); leaf, intermediate and a bound
     * together are a few bytes over the datagram limit here.
     */
    private IssuedCertificate client(String cn, List<String> servers) {
        IssuedCertificate c = ServerFixture.client(dbCa, cn, CertknockGrants.of(PortGrant.parse("tcp/5432"))
                .withMaxOpenSeconds(3600).withServers(servers).withSources(List.of(SourcePrefix.parse("198.51.100.0/24"))))
                .build();
        return new IssuedCertificate(c.certificate(), c.keyPair(), List.of(c.certificate()));
    }

    @Test
    void aKnockInsideTheBoundOpensForAtMostTheBoundsMaxOpenSeconds() throws Exception {
        assertThat(verify(client("alice", List.of(ServerFixture.SERVER_NAME)), 3600)).as(err.toString()).isZero();
        assertThat(out.toString()).contains("ACCEPTED at 2026-11-22T10:00:00Z: would open [tcp/5432] for 198.51.100.7 for 600 s")
                .contains("issuer CN=database team CA");
        out.getBuffer().setLength(0);
        assertThat(verify(client("bob", List.of(ServerFixture.SERVER_NAME)), 120)).isZero();
        assertThat(out.toString()).contains("for 120 s");
    }

    @Test
    void aKnockOutsideTheBoundIsDroppedAndVerifySaysWhichCaAndWhy() throws Exception {
        assertThat(verify(client("mallory", List.of("web.example.org")), 60)).isEqualTo(VerifyCommand.DROPPED);
        assertThat(out.toString()).contains("DROPPED at 2026-11-22T10:00:00Z: GRANT_OUTSIDE_CA_BOUND in ChainValidation "
                + "(outside the bound of CA 1 above the client certificate ('CN=database team CA'): "
                + "server web.example.org is not covered by the bound's servers *.example.test)");
    }
}
