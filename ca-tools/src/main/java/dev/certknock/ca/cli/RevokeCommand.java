package dev.certknock.ca.cli;

import dev.certknock.ca.revoke.RevocationReason;
import dev.certknock.ca.revoke.RevokeService;
import dev.certknock.ca.store.IssuedEntry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "revoke", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Mark a certificate revoked in the CA database, by serial, by name or by certificate file. A name "
                + "revokes the one valid certificate of that name (several: their serials are listed, exit 3). Servers learn it "
                + "from the next CRL: run 'knock-ca crl' afterwards. A revocation is final."},
        footerHeading = "%nReasons:%n",
        footer = {"  unspecified, keyCompromise, cACompromise, affiliationChanged, superseded,",
                "  cessationOfOperation, privilegeWithdrawn",
                "%nExamples:",
                "  knock-ca revoke --dir ca 3f9c0e7d1a2b4c5d6e7f8091a2b3c4d5 --reason keyCompromise",
                "  knock-ca revoke --dir ca alice --reason affiliationChanged",
                "  knock-ca revoke --dir ca --cert alice.pem --reason affiliationChanged"})
public final class RevokeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CaCli.CaDir dir;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Parameters(index = "0", paramLabel = "SERIAL|NAME",
                description = "The serial number in hex, as 'list' shows it, or the name (CN) of exactly one valid certificate.")
        String serial;

        @Option(names = "--cert", paramLabel = "FILE", description = "The certificate to revoke (PEM or DER).")
        Path cert;
    }

    @Option(names = "--reason", defaultValue = "unspecified", paramLabel = "REASON", description = "Why (default: ${DEFAULT-VALUE}); see Reasons.")
    String reason;

    @Mixin
    CaCli.ExitCodeHelp exitCodes;

    @Override
    public Integer call() {
        IssuedEntry e = CaCli.call(() -> {
            RevocationReason why = RevocationReason.parse(reason);
            RevokeService service = new RevokeService(CaCli.CLOCK);
            return target.cert != null ? service.revokeCertificate(dir.dir, target.cert, why)
                    : service.revokeSerialOrName(dir.dir, target.serial, why);
        });
        var out = spec.commandLine().getOut();
        out.printf("Revoked %s certificate %s (%s), reason %s, at %s%n", e.kind(), e.serial(), e.subject(), e.reason(), e.revokedAt());
        out.printf("Publish a new CRL so that servers learn it: knock-ca crl --dir %s%n", dir.dir);
        return 0;
    }
}
