package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** knock-ca's output read by the openssl CLI, and openssl's output read by knock-ca inspect. */
class OpensslInteropTest {

    @TempDir
    Path tmp;

    CaTestSupport t;

    @BeforeEach
    void setUp() throws Exception {
        t = new CaTestSupport(tmp);
    }

    @Test
    void opensslVerifiesIssuedCertificatesAndChecksTheCrl() throws Exception {
        t.init().ok();
        t.issueClient("alice", "--grant", "tcp/22").ok();
        String bob = CaTestSupport.serialOf(t.issueClient("bob", "--grant", "tcp/22", "--key-type", "ed25519").ok());
        t.issueServer("gw1.example.test").ok();
        t.issueServer("gw2.example.test", "--key-type", "x25519").ok();
        String ca = t.ca.resolve("ca.pem").toString();
        for (String leaf : new String[] {"alice.pem", "bob.pem", "gw1.example.test.pem", "gw2.example.test.pem"}) {
            CaTestSupport.Proc v = t.openssl("verify", "-CAfile", ca, leaf);
            assertThat(v.output()).as(leaf).contains(leaf + ": OK");
            assertThat(v.code()).isZero();
        }
        t.run("revoke", "--dir", t.ca.toString(), bob, "--reason", "keyCompromise").ok();
        t.crl().ok();
        String crl = t.crlFile().toString();
        assertThat(t.openssl("crl", "-in", crl, "-CAfile", ca, "-noout").output()).contains("verify OK");
        CaTestSupport.Proc text = t.openssl("crl", "-in", crl, "-noout", "-text");
        assertThat(text.output()).contains("X509v3 CRL Number").contains("Key Compromise")
                .contains("X509v3 Authority Key Identifier").contains("Next Update");
        // The DER file is the same CRL.
        assertThat(t.openssl("crl", "-inform", "DER", "-in", t.ca.resolve("publish/certknock.crl").toString(), "-CAfile", ca,
                "-noout").output()).contains("verify OK");

        CaTestSupport.Proc good = t.openssl("verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl, "alice.pem");
        assertThat(good.output()).contains("alice.pem: OK");
        CaTestSupport.Proc revoked = t.openssl("verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl, "bob.pem");
        assertThat(revoked.code()).isNotZero();
        assertThat(revoked.output()).contains("certificate revoked");

        CaTestSupport.Proc x509 = t.openssl("x509", "-in", "alice.pem", "-noout", "-text");
        assertThat(x509.output()).contains("X509v3 Subject Key Identifier").contains("X509v3 Authority Key Identifier")
                .contains("URI:http://ca.example.test/certknock.crl").contains("Version: 3");
        // Names are UTF8String.
        assertThat(t.openssl("asn1parse", "-in", "alice.pem").output()).contains("UTF8STRING        :alice");
    }

    @Test
    void opensslVerifiesAChainThroughAnIntermediate() throws Exception {
        Path root = tmp.resolve("root");
        CaTestSupport.run("init", "--dir", root.toString(), "--name", "Test Root", "--crl-url", "http://ca.example.test/root.crl",
                "--ca-password-file", t.caPass.toString()).ok();
        t.init("--parent", root.toString(), "--parent-password-file", t.caPass.toString()).ok();
        t.issueClient("alice", "--grant", "tcp/22").ok();
        t.crl().ok();
        CaTestSupport.Proc v = t.openssl("verify", "-CAfile", root.resolve("ca.pem").toString(), "-untrusted",
                t.ca.resolve("ca.pem").toString(), "alice.pem");
        assertThat(v.output()).contains("alice.pem: OK");
        CaTestSupport.Proc crl = t.openssl("verify", "-crl_check", "-CAfile", root.resolve("ca.pem").toString(), "-untrusted",
                t.ca.resolve("ca.pem").toString(), "-CRLfile", t.crlFile().toString(), "alice.pem");
        assertThat(crl.output()).contains("alice.pem: OK");
        // Without the root the intermediate alone is not trusted.
        assertThat(t.openssl("verify", "-CAfile", t.ca.resolve("ca.pem").toString(), "alice.pem").code()).isNotZero();
    }

    @Test
    void opensslReadsTheBundlesWithItsDefaults() throws Exception {
        t.init().ok();
        t.issueClient("alice", "--grant", "tcp/22").ok();
        t.issueServer("gw1.example.test", "--key-type", "x25519").ok();
        for (String bundle : new String[] {"alice.p12", "gw1.example.test.p12"}) {
            CaTestSupport.Proc info = t.openssl("pkcs12", "-info", "-in", bundle, "-passin", "file:" + t.outPass, "-nodes");
            assertThat(info.code()).as(info.output()).isZero();
            assertThat(info.output()).contains("MAC: sha256").contains("PBES2, PBKDF2, AES-256-CBC")
                    .contains("-----BEGIN PRIVATE KEY-----").contains("subject=CN = Test certknock CA");
        }
        Files.writeString(tmp.resolve("wrong.pass"), "nope\n");
        assertThat(t.openssl("pkcs12", "-info", "-in", "alice.p12", "-passin", "file:" + tmp.resolve("wrong.pass"), "-nodes").code())
                .isNotZero();
    }

    @Test
    void inspectReadsACertificateMadeByOpensslWithTheDocumentedSnippet() throws Exception {
        t.init().ok();
        try (InputStream in = Objects.requireNonNull(getClass().getResourceAsStream("certknock-client.cnf"))) {
            Files.write(tmp.resolve("certknock-client.cnf"), in.readAllBytes());
        }
        assertThat(t.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "alice.key", "-out", "alice.csr", "-subj", "/CN=alice").code()).isZero();
        assertThat(t.openssl("pkey", "-in", t.ca.resolve("private/ca.key").toString(), "-passin", "file:" + t.caPass,
                "-out", "ca-plain.key").code()).isZero();
        CaTestSupport.Proc sign = t.openssl("x509", "-req", "-in", "alice.csr", "-CA", t.ca.resolve("ca.pem").toString(),
                "-CAkey", "ca-plain.key", "-CAcreateserial", "-days", "30", "-extfile", "certknock-client.cnf",
                "-extensions", "certknock_client", "-out", "alice-openssl.pem");
        assertThat(sign.code()).as(sign.output()).isZero();
        JsonNode json = t.inspect(tmp.resolve("alice-openssl.pem"));
        assertThat(json.get("subject").asText()).isEqualTo("CN=alice");
        assertThat(json.get("serial").asText()).matches("[0-9a-f]+");
        assertThat(json.get("eku").toString()).isEqualTo("[\"certknockClient\"]");
        assertThat(json.get("grants").toString()).isEqualTo(
                "[{\"protocol\":\"tcp\",\"first\":22,\"last\":22},{\"protocol\":\"udp\",\"first\":8000,\"last\":8100}]");
        assertThat(json.get("maxOpenSeconds").asInt()).isEqualTo(300);
        assertThat(json.get("servers").toString()).isEqualTo("[\"gw1.example.test\"]");
        // C6336400FFFFFF00 and 20010DB8...FFFFFFFF00... in the snippet, in the documented text form.
        assertThat(json.get("sources").toString()).isEqualTo("[\"198.51.100.0/24\",\"2001:db8::/32\"]");
        assertThat(json.get("notBefore").asText()).endsWith("Z");
        assertThat(json.get("notAfter").asText()).endsWith("Z");
        String text = CaTestSupport.run("inspect", tmp.resolve("alice-openssl.pem").toString()).ok().out();
        assertThat(text).contains("Grants:").contains("tcp/22 udp/8000-8100").contains("300 s").contains("gw1.example.test");
    }

    @Test
    void inspectReadsACrlMadeByOpensslCa() throws Exception {
        Path dir = tmp.resolve("osslca");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("index.txt"), "");
        Files.writeString(dir.resolve("crlnumber"), "1000\n");
        Files.writeString(dir.resolve("ca.cnf"), String.join("\n",
                "[ ca ]", "default_ca = CA_default", "[ CA_default ]", "dir = " + dir, "database = $dir/index.txt",
                "new_certs_dir = $dir", "certificate = $dir/ca.pem", "private_key = $dir/ca.key", "serial = $dir/serial",
                "crlnumber = $dir/crlnumber", "default_md = sha256", "default_crl_days = 3", "policy = any",
                "[ any ]", "commonName = supplied", "[ req ]", "distinguished_name = dn", "[ dn ]", ""));
        assertThat(t.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                dir.resolve("ca.key").toString(), "-out", dir.resolve("ca.pem").toString(), "-subj", "/CN=OpenSSL CA", "-days", "30")
                .code()).isZero();
        assertThat(t.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "victim.key", "-out", "victim.pem", "-subj", "/CN=victim", "-days", "3", "-CA", dir.resolve("ca.pem").toString(),
                "-CAkey", dir.resolve("ca.key").toString(), "-set_serial", "0x1234abcd").code()).isZero();
        CaTestSupport.Proc revoke = t.openssl("ca", "-config", dir.resolve("ca.cnf").toString(), "-revoke", "victim.pem",
                "-crl_reason", "superseded");
        assertThat(revoke.code()).as(revoke.output()).isZero();
        CaTestSupport.Proc gen = t.openssl("ca", "-config", dir.resolve("ca.cnf").toString(), "-gencrl", "-out", "openssl.crl");
        assertThat(gen.code()).as(gen.output()).isZero();
        JsonNode crl = CaTestSupport.run("inspect", "--json", tmp.resolve("openssl.crl").toString()).ok().json();
        assertThat(crl.get("type").asText()).isEqualTo("crl");
        assertThat(crl.get("issuer").asText()).isEqualTo("CN=OpenSSL CA");
        assertThat(crl.get("crlNumber").asLong()).isEqualTo(0x1000);
        assertThat(crl.get("revoked")).hasSize(1);
        assertThat(crl.get("revoked").get(0).get("serial").asText()).isEqualTo("1234abcd");
        assertThat(crl.get("revoked").get(0).get("reason").asText()).isEqualTo("superseded");
        // The same CRL in DER.
        assertThat(t.openssl("crl", "-in", "openssl.crl", "-outform", "DER", "-out", "openssl.der").code()).isZero();
        assertThat(CaTestSupport.run("inspect", tmp.resolve("openssl.der").toString()).ok().out())
                .contains("CRL number:").contains("1234abcd  ").contains("superseded");
    }
}
