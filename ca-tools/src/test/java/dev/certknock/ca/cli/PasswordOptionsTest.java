package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Issue 12: one password option scheme across knock-ca's subcommands; the old names still work, with a warning. */
class PasswordOptionsTest {

    @TempDir
    Path tmp;

    CaTestSupport t;

    @BeforeEach
    void setUp() throws Exception {
        t = new CaTestSupport(tmp);
        t.init().ok();
    }

    @Test
    void everyVisiblePasswordOptionNamesTheFileWhosePasswordItIs() {
        List<String> seen = new ArrayList<>();
        CommandLine root = new CommandLine(new KnockCaCommand());
        root.getSubcommands().forEach((name, sub) -> {
            for (OptionSpec o : sub.getCommandSpec().options()) {
                for (String n : o.names()) {
                    if (n.contains("password")) {
                        seen.add(name + " " + n + (o.hidden() ? " (hidden)" : ""));
                        if (!o.hidden()) {
                            assertThat(n).as(name).matches("--(ca|parent|bundle|key)-password-(file|env)");
                        } else {
                            assertThat(n).as(name).matches("--(out-)?password-(file|env)");
                        }
                    }
                }
            }
        });
        assertThat(seen).contains("issue-client --bundle-password-file", "issue-server --bundle-password-env",
                "renew --bundle-password-file", "bundle --bundle-password-file", "bundle --key-password-file",
                "csr --key-password-file", "inspect --bundle-password-file", "crl --ca-password-env",
                "init --parent-password-file", "issue-client --out-password-file (hidden)", "inspect --password-file (hidden)");
    }

    @Test
    void theOldNamesStillWorkAndWarnOnce() throws Exception {
        CaTestSupport.Result old = CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant", "tcp/22",
                "--out", tmp.resolve("alice.p12").toString(), "--ca-password-file", t.caPass.toString(),
                "--out-password-file", t.outPass.toString()).ok();
        assertThat(old.err().lines().toList()).containsExactly(
                "knock-ca: warning: --out-password-file is deprecated, use --bundle-password-file (the old name will go)");
        CaTestSupport.Result inspect = CaTestSupport.run("inspect", "--json", tmp.resolve("alice.p12").toString(),
                "--password-file", t.outPass.toString()).ok();
        assertThat(inspect.err()).contains("--password-file is deprecated, use --bundle-password-file");
        assertThat(inspect.json().get("entries")).hasSize(1);
        CaTestSupport.Result csr = CaTestSupport.run("csr", "bob", "--key", tmp.resolve("bob.key").toString(), "--out",
                tmp.resolve("bob.csr").toString(), "--out-password-file", t.outPass.toString()).ok();
        assertThat(csr.err()).contains("--out-password-file is deprecated, use --key-password-file");
        // the new names say nothing
        assertThat(t.issueClient("carol", "--grant", "tcp/22").ok().err()).isEmpty();
    }

    @Test
    void oldAndNewNameTogetherAreRefused() throws Exception {
        CaTestSupport.Result both = CaTestSupport.run("issue-client", "--dir", t.ca.toString(), "alice", "--grant", "tcp/22",
                "--out", tmp.resolve("alice.p12").toString(), "--ca-password-file", t.caPass.toString(),
                "--out-password-file", t.outPass.toString(), "--bundle-password-file", t.outPass.toString());
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("give the bundle password once");
        assertThat(Files.exists(tmp.resolve("alice.p12"))).isFalse();
    }

    @Test
    void helpShowsTheNewNamesOnly() {
        CaTestSupport.Result help = CaTestSupport.run("issue-client", "--help").ok();
        assertThat(help.out()).contains("--bundle-password-file").contains("--ca-password-file")
                .doesNotContain("--out-password");
    }
}
