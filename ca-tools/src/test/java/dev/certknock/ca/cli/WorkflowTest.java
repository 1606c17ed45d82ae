package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.knock.ServerPublicKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.io.InputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The security team's workflow end to end, through KnockCaCommand.run. */
class WorkflowTest {

    @TempDir
    Path tmp;

    CaTestSupport t;

    @BeforeEach
    void setUp() throws Exception {
        t = new CaTestSupport(tmp);
    }

    @Test
    void initMakesAnEncryptedKeyAndAProperRootCertificate() throws Exception {
        CaTestSupport.Result r = t.init().ok();
        assertThat(r.out()).contains("Created root CA in").contains("CN=Test certknock CA");
        Path key = t.ca.resolve("private/ca.key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(t.ca.resolve("private")))).isEqualTo("rwx------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        X509Certificate ca = PemFiles.certificate(t.ca.resolve("ca.pem"));
        assertThat(ca.getVersion()).isEqualTo(3);
        assertThat(ca.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
        assertThat(ca.getKeyUsage()[5]).isTrue();
        assertThat(ca.getKeyUsage()[6]).isTrue();
        assertThat(ca.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        assertThat(ca.getExtensionValue("2.5.29.14")).isNotNull();
        assertThat(ca.getExtensionValue("2.5.29.35")).isNotNull();
        // The key is encrypted with the password: openssl opens it with the right one only.
        assertThat(t.openssl("pkey", "-in", key.toString(), "-passin", "file:" + t.caPass, "-noout").code()).isZero();
        Files.writeString(tmp.resolve("wrong.pass"), "wrong password\n");
        assertThat(t.openssl("pkey", "-in", key.toString(), "-passin", "file:" + tmp.resolve("wrong.pass"), "-noout").code()).isNotZero();
        assertThat(t.init().code()).isEqualTo(1);
    }

    @Test
    void issueClientWritesABundleWithKeyCertificateAndChainAndTheGrants() throws Exception {
        t.init().ok();
        CaTestSupport.Result r = t.issueClient("alice", "--grant", "tcp/22", "--grant", "udp/8000-8100", "--max-open", "300",
                "--server", "gw1.example.test", "--source", "203.0.113.0/24", "--days", "30").ok();
        assertThat(r.out()).contains("Issued client certificate").contains("tcp/22 udp/8000-8100; max-open 300s");
        Path bundle = tmp.resolve("alice.p12");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(bundle))).isEqualTo("rw-------");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(bundle)) {
            ks.load(in, "bundle-secret".toCharArray());
        }
        assertThat(ks.getKey("alice", "bundle-secret".toCharArray())).isNotNull();
        var chain = ks.getCertificateChain("alice");
        assertThat(chain).hasSize(2);
        X509Certificate leaf = (X509Certificate) chain[0];
        assertThat(leaf.getExtendedKeyUsage()).containsExactly(CertknockOids.KP_CLIENT.getId());
        assertThat(leaf.getNonCriticalExtensionOIDs()).contains(CertknockOids.GRANTS_EXTENSION.getId(), "2.5.29.31", "2.5.29.35", "2.5.29.14");
        assertThat(GrantsExtension.fromCertificate(leaf).orElseThrow().maxOpenSeconds().getAsInt()).isEqualTo(300);
        assertThat(leaf.getKeyUsage()[0]).isTrue();
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);

        JsonNode json = t.inspect(tmp.resolve("alice.pem"));
        assertThat(json.get("subject").asText()).isEqualTo("CN=alice");
        assertThat(json.get("serial").asText()).isEqualTo(CaTestSupport.serialOf(r));
        assertThat(json.get("eku").toString()).isEqualTo("[\"certknockClient\"]");
        assertThat(json.get("grants").toString()).isEqualTo(
                "[{\"protocol\":\"tcp\",\"first\":22,\"last\":22},{\"protocol\":\"udp\",\"first\":8000,\"last\":8100}]");
        assertThat(json.get("maxOpenSeconds").asInt()).isEqualTo(300);
        assertThat(json.get("servers").toString()).isEqualTo("[\"gw1.example.test\"]");
        assertThat(json.get("sources").toString()).isEqualTo("[\"203.0.113.0/24\"]");
        assertThat(json.get("grantsCritical").asBoolean()).isFalse();
        assertThat(json.get("crlDistributionPoints").toString()).contains("http://ca.example.test/certknock.crl");
        assertThat(json.get("notAfter").asText()).isEqualTo(leaf.getNotAfter().toInstant().toString());

        JsonNode p12 = t.inspect(bundle);
        assertThat(p12.get("type").asText()).isEqualTo("pkcs12");
        assertThat(p12.get("entries").get(0).get("hasKey").asBoolean()).isTrue();
        assertThat(p12.get("entries").get(0).get("chain")).hasSize(2);
    }

    @Test
    void criticalGrantsOnRequest() throws Exception {
        t.init().ok();
        t.issueClient("carol", "--grant", "tcp/22", "--critical-grants").ok();
        X509Certificate leaf = PemFiles.certificate(tmp.resolve("carol.pem"));
        assertThat(leaf.getCriticalExtensionOIDs()).contains(CertknockOids.GRANTS_EXTENSION.getId());
        assertThat(t.inspect(tmp.resolve("carol.pem")).get("grantsCritical").asBoolean()).isTrue();
    }

    @Test
    void issueServerWithP256AndX25519KnockKeys() throws Exception {
        t.init().ok();
        t.issueServer("gw1.example.test").ok();
        t.issueServer("GW2.Example.Test", "--key-type", "x25519").ok();
        for (String name : new String[] {"gw1.example.test", "GW2.Example.Test"}) {
            X509Certificate c = PemFiles.certificate(tmp.resolve(name + ".pem"));
            assertThat(c.getExtendedKeyUsage()).containsExactly(CertknockOids.KP_SERVER.getId());
            assertThat(c.getKeyUsage()[4]).as("keyAgreement").isTrue();
            assertThat(c.getKeyUsage()[0]).as("digitalSignature").isFalse();
            assertThat(c.getSubjectAlternativeNames().iterator().next().get(1)).isEqualTo(name.toLowerCase());
            assertThat(ServerPublicKey.fromCertificate(c).keyIdHex()).isNotEmpty();
            c.verify(PemFiles.certificate(t.ca.resolve("ca.pem")).getPublicKey());
        }
        assertThat(ServerPublicKey.fromCertificate(PemFiles.certificate(tmp.resolve("GW2.Example.Test.pem"))).suite().name())
                .contains("X25519");
        JsonNode json = t.inspect(tmp.resolve("gw1.example.test.pem"));
        assertThat(json.get("eku").toString()).isEqualTo("[\"certknockServer\"]");
        assertThat(json.get("dnsNames").toString()).isEqualTo("[\"gw1.example.test\"]");
        assertThat(json.get("knockKeyId").asText()).isNotEmpty();
        assertThat(t.issueServer("not a name").code()).isEqualTo(3);
        assertThat(t.issueServer("gw3.example.test", "--key-type", "ed25519").err()).contains("cannot be used for the server knock key");
    }

    @Test
    void issueServerWithIpAddressNamesForServersKnockedOnByAddress() throws Exception {
        t.init().ok();
        t.issueServer("gw1.example.test", "--ip", "192.0.2.10", "--ip", "2001:DB8::10", "--ip", "192.0.2.10").ok();
        X509Certificate c = PemFiles.certificate(tmp.resolve("gw1.example.test.pem"));
        assertThat(c.getSubjectAlternativeNames()).containsExactly(java.util.List.of(2, "gw1.example.test"),
                java.util.List.of(7, "192.0.2.10"), java.util.List.of(7, "2001:db8:0:0:0:0:0:10"));
        CaTestSupport.Result bad = t.issueServer("gw2.example.test", "--ip", "gw2.example.test");
        assertThat(bad.code()).isEqualTo(3);
        assertThat(bad.err()).contains("'gw2.example.test' is not an IP address: give an IPv4 or IPv6 address");
        assertThat(t.issueServer("gw3.example.test", "--ip", "300.1.2.3").code()).isEqualTo(3);
    }

    @Test
    void revokeThenCrlThenList() throws Exception {
        t.init().ok();
        String alice = CaTestSupport.serialOf(t.issueClient("alice", "--grant", "tcp/22").ok());
        String bob = CaTestSupport.serialOf(t.issueClient("bob", "--grant", "tcp/22").ok());
        t.issueServer("gw1.example.test").ok();

        CaTestSupport.Result first = t.crl().ok();
        assertThat(first.out()).contains("CRL number 1 with 0 revoked");
        assertThat(t.run("revoke", "--dir", t.ca.toString(), alice, "--reason", "keyCompromise").ok().out())
                .contains("Revoked client certificate " + alice).contains("keyCompromise");
        assertThat(t.run("revoke", "--dir", t.ca.toString(), "--cert", tmp.resolve("bob.pem").toString()).ok().out())
                .contains(bob);
        CaTestSupport.Result again = t.run("revoke", "--dir", t.ca.toString(), alice);
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("already revoked").contains("keyCompromise");
        CaTestSupport.Result unknown = t.run("revoke", "--dir", t.ca.toString(), "0123abcd");
        assertThat(unknown.code()).isEqualTo(3);
        assertThat(unknown.err()).contains("not in the database");

        assertThat(t.crl().ok().out()).contains("CRL number 2 with 2 revoked");
        JsonNode crl = t.inspect(t.crlFile());
        assertThat(crl.get("type").asText()).isEqualTo("crl");
        assertThat(crl.get("crlNumber").asLong()).isEqualTo(2);
        assertThat(crl.get("revoked")).hasSize(2);
        JsonNode aliceEntry = null;
        JsonNode bobEntry = null;
        for (JsonNode e : crl.get("revoked")) {
            if (e.get("serial").asText().equals(alice)) {
                aliceEntry = e;
            } else if (e.get("serial").asText().equals(bob)) {
                bobEntry = e;
            }
        }
        assertThat(aliceEntry).isNotNull();
        assertThat(bobEntry).isNotNull();
        assertThat(aliceEntry.get("reason").asText()).isEqualTo("keyCompromise");
        assertThat(bobEntry.get("reason").isNull()).as("unspecified: no reason code").isTrue();
        assertThat(crl.get("authorityKeyId").asText()).isEqualTo(t.inspect(t.ca.resolve("ca.pem")).get("subjectKeyId").asText());
        assertThat(Files.exists(t.ca.resolve("publish/certknock.crl"))).isTrue();

        CaTestSupport.Result list = t.run("list", "--dir", t.ca.toString()).ok();
        assertThat(list.out()).contains(alice).contains("revoked").contains("3 certificates").contains("gw1.example.test");
        JsonNode rows = t.run("list", "--dir", t.ca.toString(), "--json", "--kind", "client").ok().json();
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).get("status").asText()).isEqualTo("revoked");
        assertThat(rows.get(0).get("reason").asText()).isEqualTo("keyCompromise");
    }

    @Test
    void listJsonCarriesTheGrantsOfClientCertificatesAsInspectShowsThem() throws Exception {
        t.init().ok();
        String alice = CaTestSupport.serialOf(t.issueClient("alice", "--grant", "tcp/22", "--grant", "udp/8000-8100",
                "--max-open", "300", "--server", "gw1.example.test", "--source", "203.0.113.0/24",
                "--source", "2001:db8::/32").ok());
        String bob = CaTestSupport.serialOf(t.issueClient("bob", "--grant", "tcp/443").ok());
        String gw = CaTestSupport.serialOf(t.issueServer("gw1.example.test").ok());

        JsonNode rows = t.run("list", "--dir", t.ca.toString(), "--json").ok().json();
        assertThat(rows).hasSize(3);
        JsonNode a = rows.get(0);
        assertThat(a.get("serial").asText()).isEqualTo(alice);
        assertThat(a.get("grants").toString()).isEqualTo(
                "[{\"protocol\":\"tcp\",\"first\":22,\"last\":22},{\"protocol\":\"udp\",\"first\":8000,\"last\":8100}]");
        assertThat(a.get("maxOpenSeconds").asInt()).isEqualTo(300);
        assertThat(a.get("servers").toString()).isEqualTo("[\"gw1.example.test\"]");
        assertThat(a.get("sources").toString()).isEqualTo("[\"203.0.113.0/24\",\"2001:db8::/32\"]");
        assertThat(a.get("grantsError").isNull()).isTrue();
        assertThat(a.get("detail").asText()).startsWith("tcp/22 udp/8000-8100; max-open 300s");
        // The same shaping as inspect --json of the certificate handed out.
        JsonNode inspected = t.inspect(tmp.resolve("alice.pem"));
        for (String field : new String[] {"grants", "maxOpenSeconds", "servers", "sources"}) {
            assertThat(a.get(field)).as(field).isEqualTo(inspected.get(field));
        }

        JsonNode b = rows.get(1);
        assertThat(b.get("serial").asText()).isEqualTo(bob);
        assertThat(b.get("grants").toString()).isEqualTo("[{\"protocol\":\"tcp\",\"first\":443,\"last\":443}]");
        assertThat(b.get("maxOpenSeconds").isNull()).as("absent: the server's limit").isTrue();
        assertThat(b.get("servers").toString()).isEqualTo("[]");
        assertThat(b.get("sources").toString()).isEqualTo("[]");

        JsonNode server = rows.get(2);
        assertThat(server.get("serial").asText()).isEqualTo(gw);
        assertThat(server.get("kind").asText()).isEqualTo("server");
        for (String field : new String[] {"grants", "maxOpenSeconds", "servers", "sources", "grantsError"}) {
            assertThat(server.get(field).isNull()).as(field).isTrue();
        }
        assertThat(server.get("detail").asText()).isEqualTo("dns gw1.example.test; knock key p256");

        // The table keeps the human detail.
        assertThat(t.run("list", "--dir", t.ca.toString()).ok().out())
                .contains("tcp/22 udp/8000-8100; max-open 300s").contains("dns gw1.example.test; knock key p256");

        // Without the CA's copy of bob's certificate the grants are unknown, and the row says why.
        Files.delete(t.ca.resolve("certs/" + bob + ".pem"));
        JsonNode after = t.run("list", "--dir", t.ca.toString(), "--json", "--kind", "client").ok().json();
        assertThat(after.get(0).get("grants")).isEqualTo(a.get("grants"));
        JsonNode lost = after.get(1);
        assertThat(lost.get("grants").isNull()).isTrue();
        assertThat(lost.get("servers").isNull()).isTrue();
        assertThat(lost.get("grantsError").asText()).isEqualTo("the CA's copy of the certificate cannot be read: "
                + t.ca.resolve("certs/" + bob + ".pem") + " does not exist");
        assertThat(lost.get("detail").asText()).isEqualTo("tcp/443");
    }

    @Test
    void csrPathKeepsTheKeyWithTheClient() throws Exception {
        t.init().ok();
        t.run("csr", "bob", "--key", tmp.resolve("bob.key").toString(), "--out", tmp.resolve("bob.csr").toString(),
                "--key-type", "ed25519", "--key-password-file", t.outPass.toString()).ok();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("bob.key")))).isEqualTo("rw-------");
        assertThat(t.openssl("req", "-in", "bob.csr", "-verify", "-noout").output()).contains("verify OK");
        t.run("issue-client", "--dir", t.ca.toString(), "bob", "--grant", "tcp/22", "--csr", tmp.resolve("bob.csr").toString(),
                "--out", tmp.resolve("bob-cert.pem").toString(), "--ca-password-file", t.caPass.toString()).ok();
        assertThat(PemFiles.certificates(tmp.resolve("bob-cert.pem"))).hasSize(2);
        t.run("bundle", "--key", tmp.resolve("bob.key").toString(), "--cert", tmp.resolve("bob-cert.pem").toString(),
                "--out", tmp.resolve("bob.p12").toString(), "--key-password-file", t.outPass.toString(),
                "--bundle-password-file", t.outPass.toString()).ok();
        JsonNode p12 = t.inspect(tmp.resolve("bob.p12"));
        assertThat(p12.get("entries").get(0).get("chain").get(0).get("keyAlgorithm").asText()).isEqualTo("Ed25519");
        // A certificate for another key is refused.
        t.issueClient("alice", "--grant", "tcp/22").ok();
        Files.writeString(tmp.resolve("alice-chain.pem"), Files.readString(tmp.resolve("alice.pem")) + Files.readString(t.ca.resolve("ca.pem")));
        CaTestSupport.Result wrong = t.run("bundle", "--key", tmp.resolve("bob.key").toString(), "--cert",
                tmp.resolve("alice-chain.pem").toString(), "--out", tmp.resolve("x.p12").toString(),
                "--key-password-file", t.outPass.toString(), "--bundle-password-file", t.outPass.toString());
        assertThat(wrong.code()).isEqualTo(3);
        assertThat(wrong.err()).contains("is not for the key");
    }

    @Test
    void intermediateCaSignedByARootWithPathLengthZero() throws Exception {
        Path root = tmp.resolve("root");
        CaTestSupport.run("init", "--dir", root.toString(), "--name", "Test Root", "--crl-url", "http://ca.example.test/root.crl",
                "--ca-password-file", t.caPass.toString()).ok();
        CaTestSupport.Result r = t.init("--parent", root.toString(), "--parent-password-file", t.caPass.toString()).ok();
        assertThat(r.out()).contains("Created intermediate CA").contains("issuer:      CN=Test Root");
        X509Certificate intermediate = PemFiles.certificate(t.ca.resolve("ca.pem"));
        assertThat(intermediate.getBasicConstraints()).isZero();
        assertThat(PemFiles.certificates(t.ca.resolve("chain.pem"))).hasSize(2);
        assertThat(CaTestSupport.run("list", "--dir", root.toString(), "--kind", "ca").ok().out()).contains("CN=Test certknock CA");
        t.issueClient("alice", "--grant", "tcp/22").ok();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tmp.resolve("alice.p12"))) {
            ks.load(in, "bundle-secret".toCharArray());
        }
        assertThat(ks.getCertificateChain("alice")).hasSize(3);
        // An intermediate cannot sign another CA.
        CaTestSupport.Result deeper = CaTestSupport.run("init", "--dir", tmp.resolve("deeper").toString(), "--name", "Deeper",
                "--crl-url", "http://ca.example.test/d.crl", "--ca-password-file", t.caPass.toString(), "--parent", t.ca.toString(),
                "--parent-password-file", t.caPass.toString());
        assertThat(deeper.code()).isEqualTo(3);
        assertThat(deeper.err()).contains("path length is 0");
    }

    @Test
    void ed25519Ca() throws Exception {
        t.init("--key-type", "ed25519").ok();
        t.issueClient("alice", "--grant", "tcp/22").ok();
        t.crl().ok();
        assertThat(PemFiles.certificate(tmp.resolve("alice.pem")).getSigAlgName()).isEqualTo("Ed25519");
    }
}
