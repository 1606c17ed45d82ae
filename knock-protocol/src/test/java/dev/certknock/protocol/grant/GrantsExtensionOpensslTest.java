package dev.certknock.protocol.grant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates made by the {@code openssl} CLI with the documented configuration snippet (the test resource
 * {@code certknock-client.cnf}, shown verbatim in docs/GRANT-EXTENSION.md): any CA that runs OpenSSL can issue
 * certknock certificates, and the decoder reads them.
 */
class GrantsExtensionOpensslTest {

    private static final String SNIPPET_RESOURCE = "certknock-client.cnf";
    private static final String CRITICAL_LINE_FROM =
            "2.25.145796974053061458932107102370891577014.1 = ASN1:SEQUENCE:certknock_grants";
    private static final String CRITICAL_LINE_TO =
            "2.25.145796974053061458932107102370891577014.1 = critical,ASN1:SEQUENCE:certknock_grants";

    /** What the snippet grants: the golden vector's grants plus one IPv4 and one IPv6 source. */
    private static final CertknockGrants SNIPPET_GRANTS = CertknockGrants.of(
                    PortGrant.parse("tcp/22"), PortGrant.parse("udp/8000-8100"))
            .withMaxOpenSeconds(300)
            .withServers(List.of("gw1.example.test"))
            .withSources(List.of(SourcePrefix.parse("198.51.100.0/24"), SourcePrefix.parse("2001:db8::/32")));

    /** A minimal req configuration, so the system openssl.cnf plays no part. */
    private static final String REQ_CONFIG = String.join("\n",
            "[ req ]",
            "distinguished_name = req_dn",
            "[ req_dn ]",
            "[ test_ca ]",
            "basicConstraints = critical, CA:TRUE",
            "keyUsage = critical, keyCertSign, cRLSign",
            "subjectKeyIdentifier = hash",
            "");

    private static String snippet;

    @TempDir
    Path dir;

    private int runs;

    @BeforeAll
    static void readSnippet() throws IOException {
        try (InputStream in = GrantsExtensionOpensslTest.class.getResourceAsStream(SNIPPET_RESOURCE)) {
            assertThat(in).as("test resource " + SNIPPET_RESOURCE).isNotNull();
            snippet = new String(in.readAllBytes(), UTF_8);
        }
        assertThat(snippet).contains(CRITICAL_LINE_FROM);
    }

    @Test
    void documentationShowsTheTestedSnippetVerbatim() throws IOException {
        // Surefire runs in the module directory; the docs are at the repository root.
        Path doc = Path.of("").toAbsolutePath().resolveSibling("docs").resolve("GRANT-EXTENSION.md");

        assertThat(doc).exists();
        assertThat(Files.readString(doc, UTF_8)).contains(snippet);
    }

    @Test
    void anOpensslCaIssuesACertificateTheDecoderReads() throws Exception {
        Files.writeString(dir.resolve("req.cnf"), REQ_CONFIG, UTF_8);
        Files.writeString(dir.resolve(SNIPPET_RESOURCE), snippet, UTF_8);
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=certknock test CA", "-days", "1",
                "-config", "req.cnf", "-extensions", "test_ca");
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "alice.key", "-out", "alice.csr", "-subj", "/CN=alice", "-config", "req.cnf");
        // The command the documentation shows.
        openssl("x509", "-req", "-in", "alice.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "1", "-extfile", SNIPPET_RESOURCE, "-extensions", "certknock_client", "-out", "alice.pem");

        X509Certificate ca = load("ca.pem");
        X509Certificate alice = load("alice.pem");
        alice.verify(ca.getPublicKey());

        assertThat(GrantsExtension.fromCertificate(alice)).contains(SNIPPET_GRANTS);
        assertThat(GrantsExtension.isCritical(alice)).isFalse();
        assertThat(alice.getExtendedKeyUsage()).containsExactly(CertknockOids.KP_CLIENT.getId());
        // Non-critical keeps generic tools working.
        assertThat(openssl("verify", "-CAfile", "ca.pem", "alice.pem")).contains("alice.pem: OK");
    }

    @Test
    void aSelfSignedCertificateWithTheExtensionMarkedCritical() throws Exception {
        Files.writeString(dir.resolve("req.cnf"), REQ_CONFIG + "\n" + snippet.replace(CRITICAL_LINE_FROM, CRITICAL_LINE_TO),
                UTF_8);
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "bob.key", "-out", "bob.pem", "-subj", "/CN=bob", "-days", "1",
                "-config", "req.cnf", "-extensions", "certknock_client");

        X509Certificate bob = load("bob.pem");

        assertThat(GrantsExtension.fromCertificate(bob)).contains(SNIPPET_GRANTS);
        assertThat(GrantsExtension.isCritical(bob)).isTrue();
        assertThat(bob.getCriticalExtensionOIDs()).contains(CertknockOids.GRANTS_EXTENSION.getId());
        // Why certknock issues it non-critical: generic verifiers refuse unknown critical extensions.
        Result verify = run("verify", "-CAfile", "bob.pem", "bob.pem");
        assertThat(verify.exitCode).isNotZero();
        assertThat(verify.output).contains("unhandled critical extension");
    }

    private X509Certificate load(String pem) throws Exception {
        try (InputStream in = Files.newInputStream(dir.resolve(pem))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private String openssl(String... args) throws Exception {
        Result result = run(args);
        assertThat(result.exitCode).as("openssl %s exit code; output:%n%s", String.join(" ", args), result.output)
                .isZero();
        return result.output;
    }

    private Result run(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Path log = dir.resolve("openssl-" + (++runs) + ".log");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("OPENSSL_CONF", dir.resolve("req.cnf").toString());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("this test needs the openssl command line tool on the PATH", e);
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("openssl " + String.join(" ", args) + " did not finish within 60 s");
        }
        return new Result(process.exitValue(), Files.readString(log, UTF_8));
    }

    private record Result(int exitCode, String output) {
    }
}
