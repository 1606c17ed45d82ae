package dev.certknock.ca.pki;

import dev.certknock.ca.CaException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/** Reads the PEM (or DER) files knock-ca works with. */
public final class PemFiles {

    private PemFiles() {
    }

    /** The bytes of a file, with a clear message when it cannot be read. */
    public static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw CaException.badInput(file + " does not exist");
        } catch (IOException e) {
            throw CaException.failure("cannot read " + file + ": " + e);
        }
    }

    /** True when the bytes look like PEM text. */
    public static boolean isPem(byte[] content) {
        return new String(content, 0, Math.min(content.length, 4096), StandardCharsets.US_ASCII).contains("-----BEGIN ");
    }

    /** All PEM objects in a text, in order. */
    public static List<PemObject> pemObjects(byte[] content, Path source) {
        List<PemObject> objects = new ArrayList<>();
        try (PemReader r = new PemReader(new StringReader(new String(content, StandardCharsets.US_ASCII)))) {
            for (PemObject o = r.readPemObject(); o != null; o = r.readPemObject()) {
                objects.add(o);
            }
        } catch (IOException e) {
            throw CaException.badInput(source + " is not valid PEM: " + e.getMessage());
        }
        return objects;
    }

    /** The certificates in a PEM file (one or more CERTIFICATE blocks) or a DER file (one). */
    public static List<X509Certificate> certificates(Path file) {
        byte[] content = read(file);
        if (!isPem(content)) {
            return List.of(Pki.certificate(content));
        }
        List<X509Certificate> certs = new ArrayList<>();
        for (PemObject o : pemObjects(content, file)) {
            if (o.getType().equals("CERTIFICATE")) {
                certs.add(Pki.certificate(o.getContent()));
            }
        }
        if (certs.isEmpty()) {
            throw CaException.badInput(file + " holds no certificate (no PEM 'CERTIFICATE' block)");
        }
        return certs;
    }

    /** The one certificate in a file; the first when it holds a chain. */
    public static X509Certificate certificate(Path file) {
        return certificates(file).get(0);
    }

    /** The DER of the first PEM block of the given type, or the file itself when it is DER. */
    public static byte[] derOf(Path file, String pemType) {
        byte[] content = read(file);
        if (!isPem(content)) {
            return content;
        }
        for (PemObject o : pemObjects(content, file)) {
            if (o.getType().equals(pemType)) {
                return o.getContent();
            }
        }
        throw CaException.badInput(file + " holds no PEM '" + pemType + "' block");
    }
}
