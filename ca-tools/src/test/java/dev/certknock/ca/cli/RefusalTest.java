package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What knock-ca refuses, with which exit code and message; and that a refusal leaves no trace. */
class RefusalTest {

    @TempDir
    Path tmp;

    CaTestSupport t;

    @BeforeEach
    void setUp() throws Exception {
        t = new CaTestSupport(tmp);
        t.init("--days", "100").ok();
    }

    private void refused(CaTestSupport.Result r, int code, String... message) throws Exception {
        assertThat(r.code()).as("stderr: %s", r.err()).isEqualTo(code);
        assertThat(r.err()).contains(message);
        assertThat(CaTestSupport.run("list", "--dir", t.ca.toString(), "--json").ok().json()).as("nothing issued").isEmpty();
    }

    @Test
    void emptyGrants() throws Exception {
        refused(t.issueClient("alice"), 3, "no --grant given", "--grant tcp/22");
        assertThat(Files.exists(tmp.resolve("alice.p12"))).isFalse();
    }

    @Test
    void aBundlePasswordShorterThanTwelveCharactersIsRefusedAndTwelveAreEnough() throws Exception {
        Path eleven = Files.writeString(tmp.resolve("eleven.pass"), "abcdefghijk\n");
        refused(CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant", "tcp/22",
                "--out", tmp.resolve("alice.p12").toString(), "--ca-password-file", t.caPass.toString(),
                "--bundle-password-file", eleven.toString()), 3,
                "the bundle password has 11 characters, fewer than 12", "at least 12 characters");
        assertThat(Files.exists(tmp.resolve("alice.p12"))).isFalse();
        refused(CaTestSupport.run("issue-server", "--dir", t.ca.toString(), "gw1.example.test",
                "--out", tmp.resolve("gw1.p12").toString(), "--ca-password-file", t.caPass.toString(),
                "--bundle-password-file", eleven.toString()), 3, "fewer than 12");
        CaTestSupport.Result csr = CaTestSupport.run("csr", "alice", "--key", tmp.resolve("alice.key").toString(),
                "--out", tmp.resolve("alice.csr").toString(), "--key-password-file", eleven.toString());
        assertThat(csr.code()).isEqualTo(3);
        assertThat(csr.err()).contains("fewer than 12");
        assertThat(Files.exists(tmp.resolve("alice.key"))).isFalse();

        Path twelve = Files.writeString(tmp.resolve("twelve.pass"), "abcdefghijkl\n");
        CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant", "tcp/22",
                "--out", tmp.resolve("alice.p12").toString(), "--ca-password-file", t.caPass.toString(),
                "--bundle-password-file", twelve.toString()).ok();
    }

    @Test
    void portZero() throws Exception {
        refused(t.issueClient("alice", "--grant", "tcp/0"), 3, "--grant tcp/0: port 0 is outside 1-65535");
    }

    @Test
    void overlappingGrants() throws Exception {
        refused(t.issueClient("alice", "--grant", "tcp/20-30", "--grant", "tcp/22"), 3,
                "--grant tcp/20-30 and --grant tcp/22 overlap", "already contains");
        refused(t.issueClient("alice", "--grant", "tcp/22", "--grant", "tcp/22"), 3, "overlap");
        // The same port on the other protocol is no overlap.
        t.issueClient("alice", "--grant", "tcp/22", "--grant", "udp/22").ok();
    }

    @Test
    void badGrantValues() throws Exception {
        refused(t.issueClient("alice", "--grant", "sctp/22"), 3, "sctp");
        refused(t.issueClient("alice", "--grant", "tcp/22", "--max-open", "0"), 3, "maxOpenSeconds");
        refused(t.issueClient("alice", "--grant", "tcp/22", "--source", "10.0.0.1/8"), 3, "--source 10.0.0.1/8");
    }

    @Test
    void clientOutlivingItsCa() throws Exception {
        refused(t.issueClient("alice", "--grant", "tcp/22", "--days", "101"), 3, "after its CA's certificate ends", "or less");
        refused(t.issueServer("gw1.example.test", "--days", "365"), 3, "after its CA's certificate ends");
    }

    @Test
    void unknownKeyType() throws Exception {
        refused(t.issueClient("alice", "--grant", "tcp/22", "--key-type", "rsa"), 3,
                "unknown key type 'rsa' for the client key: use p256 or ed25519");
        refused(t.issueClient("alice", "--grant", "tcp/22", "--key-type", "x25519"), 3, "cannot be used for the client key");
        CaTestSupport.Result init = CaTestSupport.run("init", "--dir", tmp.resolve("ca2").toString(), "--name", "x",
                "--crl-url", "http://x.test/c.crl", "--key-type", "rsa4096", "--ca-password-file", t.caPass.toString());
        assertThat(init.code()).isEqualTo(3);
        assertThat(init.err()).contains("unknown key type 'rsa4096' for the CA key");
    }

    @Test
    void wrongCaPasswordIsExitFour() throws Exception {
        Files.writeString(tmp.resolve("wrong.pass"), "not the password\n");
        CaTestSupport.Result r = CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant", "tcp/22",
                "--out", tmp.resolve("alice.p12").toString(), "--ca-password-file", tmp.resolve("wrong.pass").toString(),
                "--bundle-password-file", t.outPass.toString());
        refused(r, 4, "wrong password for the private key", "ca.key");
        assertThat(Files.exists(tmp.resolve("alice.p12"))).isFalse();
        assertThat(CaTestSupport.run("crl", "--dir", t.ca.toString(), "--ca-password-file", tmp.resolve("wrong.pass").toString())
                .code()).isEqualTo(4);
    }

    @Test
    void crlOfADirectoryThatIsNotACa() throws Exception {
        Files.createDirectories(tmp.resolve("empty"));
        CaTestSupport.Result r = CaTestSupport.run("crl", "--dir", tmp.resolve("empty").toString(), "--ca-password-file", t.caPass.toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("is not a knock-ca CA directory (ca.json is missing)");
        CaTestSupport.Result missing = CaTestSupport.run("crl", "--dir", tmp.resolve("nowhere").toString());
        assertThat(missing.code()).isEqualTo(3);
        assertThat(missing.err()).contains("does not exist");
    }

    @Test
    void existingOutputsAreNeverOverwritten() throws Exception {
        Files.writeString(tmp.resolve("alice.p12"), "precious");
        refused(t.issueClient("alice", "--grant", "tcp/22"), 1, "alice.p12 already exists");
        assertThat(Files.readString(tmp.resolve("alice.p12"))).isEqualTo("precious");
    }

    @Test
    void noPasswordSourceIsAUsageError() throws Exception {
        CaTestSupport.Result r = CaTestSupport.run("crl", "--dir", t.ca.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no CA key password and no terminal to ask on: give --ca-password-file FILE or --ca-password-env NAME");
    }

    @Test
    void aPasswordIsNeverAnArgvValue() {
        CaTestSupport.Result r = CaTestSupport.run("crl", "--dir", t.ca.toString(), "--password", "secret");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option");
    }

    @Test
    void unknownRevocationReason() throws Exception {
        String serial = CaTestSupport.serialOf(t.issueClient("alice", "--grant", "tcp/22").ok());
        CaTestSupport.Result r = CaTestSupport.run("revoke", "--dir", t.ca.toString(), serial, "--reason", "boredom");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("unknown revocation reason 'boredom'", "keyCompromise");
    }

    @Test
    void revokingACertificateOfAnotherCa() throws Exception {
        CaTestSupport other = new CaTestSupport(Files.createDirectories(tmp.resolve("other")));
        other.init().ok();
        other.issueClient("mallory", "--grant", "tcp/22").ok();
        CaTestSupport.Result r = CaTestSupport.run("revoke", "--dir", t.ca.toString(), "--cert",
                tmp.resolve("other/mallory.pem").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("was not issued by the CA in");
    }

    @Test
    void inspectRefusesWhatItCannotRead() throws Exception {
        Files.writeString(tmp.resolve("junk.txt"), "hello");
        assertThat(CaTestSupport.run("inspect", tmp.resolve("junk.txt").toString()).code()).isEqualTo(3);
        t.issueClient("alice", "--grant", "tcp/22").ok();
        Files.writeString(tmp.resolve("wrong.pass"), "nope\n");
        CaTestSupport.Result r = CaTestSupport.run("inspect", tmp.resolve("alice.p12").toString(), "--bundle-password-file",
                tmp.resolve("wrong.pass").toString());
        assertThat(r.code()).isEqualTo(4);
        assertThat(r.err()).contains("wrong password for the PKCS#12 bundle");
    }

    /** Issue 12: a name with a valid certificate is refused before any password is asked for; --force issues anyway. */
    @Test
    void aValidNameIsNotIssuedTwiceWithoutForce() throws Exception {
        String first = CaTestSupport.serialOf(t.issueClient("alice", "--grant", "tcp/22").ok());
        // no password options and no terminal: the refusal comes first, not "no CA key password" (exit 2)
        CaTestSupport.Result again = CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant", "tcp/22",
                "--out", tmp.resolve("alice-2.p12").toString());
        assertThat(again.code()).as(again.err()).isEqualTo(1);
        assertThat(again.err()).contains("'alice' already has a valid client certificate: serial " + first)
                .contains("knock-ca renew --dir " + t.ca + " alice --out FILE").contains("--force");
        assertThat(Files.exists(tmp.resolve("alice-2.p12"))).isFalse();
        assertThat(CaTestSupport.run("list", "--dir", t.ca.toString(), "--json").ok().json()).hasSize(1);

        String second = CaTestSupport.serialOf(CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant",
                "tcp/22", "--out", tmp.resolve("alice-2.p12").toString(), "--force", "--ca-password-file", t.caPass.toString(),
                "--bundle-password-file", t.outPass.toString()).ok());
        assertThat(second).isNotEqualTo(first);

        // another kind, or another name, is not in the way; a revoked certificate frees its name
        t.issueServer("alice.example.test", "--valid-for", "30d").ok();
        assertThat(t.issueServer("alice.example.test", "--valid-for", "30d").code()).isEqualTo(1);
        assertThat(CaTestSupport.run("issue-server", "--dir", t.ca.toString(), "ALICE.example.test.", "--out",
                tmp.resolve("x.p12").toString()).err()).as("the server name is compared as issued (lower case)")
                .contains("already has a valid server certificate");
        t.issueClient("bob", "--grant", "tcp/22").ok();
        CaTestSupport.run("revoke", "--dir", t.ca.toString(), "bob").ok();
        Files.delete(tmp.resolve("bob.p12"));
        Files.delete(tmp.resolve("bob.pem"));
        t.issueClient("bob", "--grant", "tcp/22").ok();
    }

    /** Issue 12: revoke by name when exactly one valid certificate has it; several are listed, none is refused. */
    @Test
    void revokeByName() throws Exception {
        String first = CaTestSupport.serialOf(t.issueClient("alice", "--grant", "tcp/22").ok());
        String second = CaTestSupport.serialOf(CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant",
                "tcp/22", "--out", tmp.resolve("alice-2.p12").toString(), "--force", "--ca-password-file", t.caPass.toString(),
                "--bundle-password-file", t.outPass.toString()).ok());
        CaTestSupport.Result ambiguous = CaTestSupport.run("revoke", "--dir", t.ca.toString(), "alice");
        assertThat(ambiguous.code()).isEqualTo(3);
        assertThat(ambiguous.err()).contains("'alice' names 2 valid certificates").contains(first).contains(second)
                .contains("revoke one by its serial");
        CaTestSupport.run("revoke", "--dir", t.ca.toString(), first, "--reason", "superseded").ok();
        CaTestSupport.Result byName = CaTestSupport.run("revoke", "--dir", t.ca.toString(), "alice", "--reason", "keyCompromise").ok();
        assertThat(byName.out()).contains("Revoked client certificate " + second + " (CN=alice), reason keyCompromise");
        CaTestSupport.Result none = CaTestSupport.run("revoke", "--dir", t.ca.toString(), "alice");
        assertThat(none.code()).isEqualTo(3);
        assertThat(none.err()).contains("'alice' is not in the database of the CA in").contains("as a serial or as the name of a valid certificate").contains("knock-ca list");
        assertThat(CaTestSupport.run("revoke", "--dir", t.ca.toString(), "nobody").code()).isEqualTo(3);
    }
}
