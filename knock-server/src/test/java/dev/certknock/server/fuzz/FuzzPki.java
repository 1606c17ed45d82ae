package dev.certknock.server.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * The fixed test PKI of the fuzz targets (see {@code src/test/resources/dev/certknock/server/fuzzpki/README.md}):
 * committed fuzz inputs that are real chains and CRLs must verify against the same anchor on every run.
 */
public final class FuzzPki {

    /** A time inside every certificate's validity and after every CRL's thisUpdate. */
    public static final Instant NOW = Instant.parse("2027-06-01T12:00:00Z");

    public static final X509Certificate ANCHOR = load("anchor.pem");
    public static final X509Certificate INTERMEDIATE = load("intermediate.pem");
    /** Issued by the anchor, serial 3. */
    public static final X509Certificate ALICE = load("alice.pem");
    /** Issued by the intermediate, serial 4. */
    public static final X509Certificate BOB = load("bob.pem");

    private FuzzPki() {
    }

    private static X509Certificate load(String name) {
        try (InputStream in = FuzzPki.class.getResourceAsStream("/dev/certknock/server/fuzzpki/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource fuzzpki/" + name + " is missing");
            }
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
