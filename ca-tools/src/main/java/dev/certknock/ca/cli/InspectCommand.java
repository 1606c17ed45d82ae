package dev.certknock.ca.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.certknock.ca.inspect.InspectService;
import dev.certknock.ca.inspect.Inspection;
import dev.certknock.ca.inspect.InspectionText;
import dev.certknock.ca.store.CaStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Describe a certificate (PEM, one or a chain, or DER), a CRL (PEM or DER) or a PKCS#12 bundle, "
                + "whoever made it: names, serial, validity, key, key usages, certknock grants, CRL entries. "
                + "--json gives for a certificate at least subject, serial (hex), notBefore, notAfter, eku, "
                + "grants ([{protocol, first, last}]), maxOpenSeconds, servers and sources."},
        footerHeading = "%nExamples:%n",
        footer = {"  knock-ca inspect alice.pem", "  knock-ca inspect --json ca/publish/certknock.crl",
                "  knock-ca inspect alice.p12 --bundle-password-file alice.pass"})
public final class InspectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The file to describe.")
    Path file;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @ArgGroup(exclusive = false, heading = "%nBundle password, for a PKCS#12 file (asked on the terminal otherwise):%n")
    PasswordOptions.In password = new PasswordOptions.In();

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() throws JsonProcessingException {
        Inspection inspection = CaCli.call(() -> new InspectService().inspect(file, password::read));
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(CaStore.json().writeValueAsString(inspection));
        } else {
            out.print(InspectionText.render(inspection));
        }
        return 0;
    }
}
