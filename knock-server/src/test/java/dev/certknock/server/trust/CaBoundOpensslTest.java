package dev.certknock.server.trust;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.server.knock.DropReason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A constrained intermediate made by the {@code openssl} CLI with the configuration docs/GRANT-EXTENSION.md shows (the
 * test resource {@code certknock-ca-bound.cnf}), leaves signed by it with openssl too: the server's chain validation
 * accepts the leaf inside and refuses each kind of outside with {@link DropReason#GRANT_OUTSIDE_CA_BOUND}.
 */
class CaBoundOpensslTest {

    private static final String SNIPPET = "certknock-ca-bound.cnf";
    private static final String REQ_CONFIG = String.join("\n",
            "[ req ]", "distinguished_name = req_dn", "[ req_dn ]",
            "[ root_ca ]", "basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign",
            "subjectKeyIdentifier = hash", "");

    @TempDir
    Path dir;

    private int runs;
    private String snippet;
    private ChainValidator validator;
    private X509Certificate dbCa;

    @BeforeEach
    void opensslMakesARootAndAConstrainedIntermediate() throws Exception {
        try (InputStream in = getClass().getResourceAsStream(SNIPPET)) {
            assertThat(in).as("test resource " + SNIPPET).isNotNull();
            snippet = new String(in.readAllBytes(), UTF_8);
        }
        Files.writeString(dir.resolve("req.cnf"), REQ_CONFIG, UTF_8);
        Files.writeString(dir.resolve(SNIPPET), snippet, UTF_8);
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "root.key",
                "-out", "root.pem", "-subj", "/CN=OpenSSL Security Root", "-days", "2", "-config", "req.cnf",
                "-extensions", "root_ca");
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "db.key",
                "-out", "db.csr", "-subj", "/CN=OpenSSL Database Team CA", "-config", "req.cnf");
        // The command the documentation shows.
        openssl("x509", "-req", "-in", "db.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-days", "2",
                "-extfile", SNIPPET, "-extensions", "certknock_ca_bound", "-out", "db.pem");
        dbCa = load("db.pem");
        validator = new ChainValidator(new TrustStore(List.of(load("root.pem")), List.of()), () -> 0, 10);
    }

    @Test
    void documentationShowsTheTestedSnippetVerbatim() throws IOException {
        Path doc = Path.of("").toAbsolutePath().resolveSibling("docs").resolve("GRANT-EXTENSION.md");
        assertThat(Files.readString(doc, UTF_8)).contains(snippet);
    }

    @Test
    void theIntermediateCarriesTheBound() throws Exception {
        CertknockGrants bound = GrantsExtension.fromCertificate(dbCa).orElseThrow();
        assertThat(bound).isEqualTo(CaBoundTest.DB_TEAM);
        assertThat(dbCa.getBasicConstraints()).isZero();
    }

    @Test
    void aLeafInsideIsAcceptedAndCapped() throws Exception {
        ChainResult r = validate(leaf("alice", "6", "5432", "pg1.db.example.test", "0A140300FFFFFF00", "3600"));
        assertThat(r).isInstanceOfSatisfying(ChainResult.Valid.class, v -> assertThat(v.caMaxOpenSeconds()).hasValue(600));
    }

    @Test
    void eachKindOfOutsideIsRefused() throws Exception {
        String ca = "outside the bound of CA 1 above the client certificate ('CN=OpenSSL Database Team CA'): ";
        assertOutside(leaf("m1", "6", "22", "pg1.db.example.test", "0A140000FFFF0000", null),
                ca + "grant tcp/22 is outside the bound's grants tcp/5432");
        assertOutside(leaf("m2", "17", "5432", "pg1.db.example.test", "0A140000FFFF0000", null),
                ca + "grant udp/5432 is outside");
        assertOutside(leaf("m3", "6", "5432", "db.example.test", "0A140000FFFF0000", null),
                ca + "server db.example.test is not covered by the bound's servers *.db.example.test");
        assertOutside(leaf("m4", "6", "5432", null, "0A140000FFFF0000", null),
                ca + "no servers listed (any server)");
        assertOutside(leaf("m5", "6", "5432", "pg1.db.example.test", "0A000000FF000000", null),
                ca + "source 10.0.0.0/8 is not inside the bound's sources 10.20.0.0/16");
        assertOutside(leaf("m6", "6", "5432", "pg1.db.example.test", null, null),
                ca + "no sources listed (any source)");
    }

    private void assertOutside(X509Certificate leaf, String detail) throws Exception {
        assertThat(validate(leaf)).isInstanceOfSatisfying(ChainResult.Invalid.class, i -> {
            assertThat(i.reason()).isEqualTo(DropReason.GRANT_OUTSIDE_CA_BOUND);
            assertThat(i.detail()).contains(detail);
        });
    }

    private ChainResult validate(X509Certificate leaf) throws Exception {
        return validator.validate(List.of(leaf, dbCa), MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()),
                Instant.now());
    }

    /** A client certificate signed by the intermediate with openssl; a null server, source or maxOpen is left out. */
    private X509Certificate leaf(String name, String protocol, String port, String server, String sourceHex, String maxOpen)
            throws Exception {
        List<String> cnf = new ArrayList<>(List.of("[ leaf ]", "basicConstraints = critical, CA:FALSE",
                "keyUsage = critical, digitalSignature",
                "extendedKeyUsage = 2.25.145796974053061458932107102370891577014.2",
                "2.25.145796974053061458932107102370891577014.1 = ASN1:SEQUENCE:grants_ext",
                "[ grants_ext ]", "grants = SEQUENCE:grant_list"));
        if (maxOpen != null) {
            cnf.add("maxOpenSeconds = IMPLICIT:0,INTEGER:" + maxOpen);
        }
        if (server != null) {
            cnf.add("servers = IMPLICIT:1,SEQUENCE:server_list");
        }
        if (sourceHex != null) {
            cnf.add("sources = IMPLICIT:2,SEQUENCE:source_list");
        }
        cnf.addAll(List.of("[ grant_list ]", "grant1 = SEQUENCE:grant1", "[ grant1 ]", "protocol = ENUMERATED:" + protocol,
                "firstPort = INTEGER:" + port));
        if (server != null) {
            cnf.addAll(List.of("[ server_list ]", "server1 = UTF8String:" + server));
        }
        if (sourceHex != null) {
            HexFormat.of().parseHex(sourceHex);
            cnf.addAll(List.of("[ source_list ]", "source1 = FORMAT:HEX,OCTETSTRING:" + sourceHex));
        }
        Files.write(dir.resolve(name + ".cnf"), cnf, UTF_8);
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", "/CN=" + name, "-config", "req.cnf");
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "db.pem", "-CAkey", "db.key", "-CAcreateserial", "-days", "1",
                "-extfile", name + ".cnf", "-extensions", "leaf", "-out", name + ".pem");
        return load(name + ".pem");
    }

    private X509Certificate load(String pem) throws Exception {
        try (InputStream in = Files.newInputStream(dir.resolve(pem))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Path log = dir.resolve("openssl-" + (++runs) + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
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
        assertThat(process.exitValue()).as("openssl %s; output:%n%s", String.join(" ", args), Files.readString(log, UTF_8))
                .isZero();
    }
}
