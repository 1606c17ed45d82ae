package dev.certknock.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads X.509 certificate files as the {@code knock} command does: PEM (one or more {@code CERTIFICATE} blocks,
 * text around them ignored) or DER (one certificate). A server certificate file goes to
 * {@link dev.certknock.client.knock.KnockTarget#of(String, List)}; a CA certificate file to
 * {@link dev.certknock.client.identity.ClientIdentity#withTrustAnchors}.
 */
public final class CertificateFiles {

    private CertificateFiles() {
    }

    /**
     * Every certificate in the file, in file order (for a server: the server certificate first, then any
     * intermediates).
     *
     * @param file a PEM or DER file
     * @return the certificates, at least one
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws IOException when the file cannot be read
     * @throws CertificateException when the file is neither PEM nor DER X.509, or holds no certificate; the
     *     message names the file
     */
    public static List<X509Certificate> read(Path file) throws IOException, CertificateException {
        Objects.requireNonNull(file, "file");
        return parse(Files.readAllBytes(file), file.toString());
    }

    /**
     * Every certificate in PEM or DER bytes, in order.
     *
     * @param bytes the file's content
     * @param source what the bytes are, for the error message (a file name)
     * @return the certificates, at least one
     * @throws CertificateException when the bytes are neither PEM nor DER X.509, or hold no certificate
     */
    public static List<X509Certificate> parse(byte[] bytes, String source) throws CertificateException {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(source, "source");
        List<X509Certificate> out = new ArrayList<>();
        try {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
                out.add((X509Certificate) c);
            }
        } catch (CertificateException | RuntimeException e) {
            throw new CertificateException(source + " is not a PEM or DER certificate: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new CertificateException(source + " holds no certificate");
        }
        return List.copyOf(out);
    }
}
