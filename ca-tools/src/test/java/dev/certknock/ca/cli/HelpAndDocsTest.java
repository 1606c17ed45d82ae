package dev.certknock.ca.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Every command's --help has examples and the exit codes; the man pages (AsciiDoc, through generate-man-page) and the
 * bash completion script (target/completion/knock-ca.bash) are generated from the picocli model at every build.
 */
class HelpAndDocsTest {

    @ParameterizedTest
    @ValueSource(strings = {"init", "issue-server", "issue-client", "csr", "bundle", "renew", "revoke", "crl", "list", "inspect"})
    void everyCommandHasHelpWithExamplesAndExitCodes(String command) {
        CaTestSupport.Result r = CaTestSupport.run(command, "--help").ok();
        assertThat(r.out()).contains("Usage: knock-ca " + command).contains("Examples:").contains("knock-ca " + command)
                .contains("Exit codes:").contains("  4   Credentials unusable").contains(" 70   Internal error");
    }

    @Test
    void topLevelHelpListsTheCommands() {
        String out = CaTestSupport.run("--help").ok().out();
        assertThat(out).contains("init", "issue-server", "issue-client", "renew", "revoke", "crl", "list", "inspect", "generate-completion");
    }

    @Test
    void completionScriptFromTheModel() throws Exception {
        CaTestSupport.Result r = CaTestSupport.run("generate-completion").ok();
        assertThat(r.out()).contains("complete -F _complete_knock-ca").contains("issue-client").contains("--grant");
        Path dir = Files.createDirectories(Path.of("target", "completion"));
        Files.writeString(dir.resolve("knock-ca.bash"), AutoComplete.bash("knock-ca", new CommandLine(new KnockCaCommand())));
        assertThat(Files.readString(dir.resolve("knock-ca.bash"))).contains("--crl-url");
    }

    @Test
    void manPagesFromTheModel(@TempDir Path dir) throws Exception {
        Path man = dir.resolve("man");
        CaTestSupport.Result r = CaTestSupport.run("generate-man-page", "--dir", man.toString()).ok();
        assertThat(r.out()).contains("asciidoctor -b manpage");
        assertThat(Files.readString(man.resolve("knock-ca.adoc"))).contains(":doctype: manpage").contains("knock-ca-issue-client");
        assertThat(Files.readString(man.resolve("knock-ca-issue-client.adoc"))).contains("*--grant*").contains("Examples");
        assertThat(Files.readString(man.resolve("knock-ca-crl.adoc"))).contains("Exit codes");
    }
}
