package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/** Reads certificate files (PEM or DER) through the library's {@link dev.certknock.client.CertificateFiles}. */
final class CertificateFiles {

    private CertificateFiles() {
    }

    /** Every certificate in the file, in file order; failures as a {@link UserException} naming {@code what}. */
    static List<X509Certificate> read(Path file, String what) {
        try {
            return dev.certknock.client.CertificateFiles.read(file);
        } catch (NoSuchFileException e) {
            throw new UserException(ExitCodes.BAD_INPUT, what + " " + file + " does not exist");
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot read " + what + " " + file + ": " + e.getMessage(), e);
        } catch (CertificateException e) {
            throw new UserException(ExitCodes.BAD_INPUT, what + " " + e.getMessage(), e);
        }
    }
}
