package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** Reads certificate files: PEM (one or more certificates) or DER. */
final class CertificateFiles {

    private CertificateFiles() {
    }

    /** Every certificate in the file, in file order. */
    static List<X509Certificate> read(Path file, String what) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UserException(ExitCodes.BAD_INPUT, what + " " + file + " does not exist");
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        List<X509Certificate> out = new ArrayList<>();
        try {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
                out.add((X509Certificate) c);
            }
        } catch (CertificateException | RuntimeException e) {
            throw new UserException(ExitCodes.BAD_INPUT, what + " " + file + " is not a PEM or DER certificate: "
                    + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new UserException(ExitCodes.BAD_INPUT, what + " " + file + " holds no certificate");
        }
        return out;
    }
}
