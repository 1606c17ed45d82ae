package dev.certknock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

class HelpLayoutTest {

    static final String EXAMPLE = "  demo --dir ca --name 'Example certknock CA' --crl-url "
            + "http://ca.example.test/certknock.crl --days 3650";
    static final String PROSE = "A long sentence of prose that is wider than the help and so is wrapped at whole "
            + "words, never inside one, such as certknock.example.test or --crl-url.";

    @Command(name = "demo", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
            footer = {EXAMPLE, "  demo ssh -o ProxyCommand='knock ssh-proxy gw1 %%p' x%n", PROSE})
    static final class Demo implements Callable<Integer> {
        @Override
        public Integer call() {
            return 0;
        }
    }

    @Test
    void examplesAreWholeAndProseIsWrappedAtWords() {
        StringWriter out = new StringWriter();
        assertThat(CommandRunner.run(new Demo(), new PrintWriter(out), new PrintWriter(new StringWriter()), "--help"))
                .isZero();
        List<String> lines = Arrays.asList(out.toString().split("\\R", -1));
        assertThat(EXAMPLE.length()).isGreaterThan(80);
        assertThat(lines).contains(EXAMPLE, "  demo ssh -o ProxyCommand='knock ssh-proxy gw1 %p' x");
        int at = lines.indexOf("  demo ssh -o ProxyCommand='knock ssh-proxy gw1 %p' x");
        assertThat(lines.get(at + 1)).as("a final %%n is an empty line, as picocli shows it").isEmpty();
        List<String> prose = lines.subList(at + 2, lines.size());
        assertThat(String.join(" ", prose).strip()).isEqualTo(PROSE);
        assertThat(prose).allSatisfy(l -> assertThat(l.length()).isLessThan(80));
        assertThat(prose.get(0)).endsWith(" at whole");
    }
}
