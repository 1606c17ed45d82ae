package dev.certknock.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Man pages and shell completion come from the same picocli model as --help. */
class DocumentationCommandsTest {

    @TempDir
    Path dir;

    @Test
    void manPagesAreGeneratedForEveryCommand() throws Exception {
        CliPki pki = new CliPki(dir);
        Path man = dir.resolve("man");
        assertThat(pki.knock("generate-man-page", "--dir", man.toString())).as(pki.err.toString()).isZero();
        assertThat(pki.out.toString()).contains("asciidoctor -b manpage");
        assertThat(man.resolve("knock.adoc")).exists();
        String knock = Files.readString(man.resolve("knock.adoc"));
        assertThat(knock).contains("= knock(1)").contains("--save-packet").contains("Exit codes specific to knock");
        assertThat(Files.readString(man.resolve("knock-ssh-proxy.adoc"))).contains("ProxyCommand");
        assertThat(man.resolve("knock-target-add.adoc")).exists();
    }

    @Test
    void completionScriptCoversTheSubcommands() throws Exception {
        CliPki pki = new CliPki(dir);
        assertThat(pki.knock("generate-completion")).isZero();
        assertThat(pki.out.toString()).contains("complete -F").contains("ssh-proxy").contains("--save-packet");
    }

    @Test
    void helpListsTheKnockSpecificExitCodes() throws Exception {
        CliPki pki = new CliPki(dir);
        assertThat(pki.knock("--help")).isZero();
        assertThat(pki.out.toString()).contains("10   --wait or ssh-proxy: the port did not open in time")
                .contains("11   Your certificate does not permit this request");
        pki.reset();
        assertThat(pki.knock("ssh-proxy", "--help")).isZero();
        assertThat(pki.out.toString()).contains("ProxyCommand knock ssh-proxy gw1 %p");
    }
}
