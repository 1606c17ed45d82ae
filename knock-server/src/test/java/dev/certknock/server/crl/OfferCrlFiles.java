package dev.certknock.server.crl;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Run in a child JVM by {@link BigCrlTest}: offers CRL files, in order, to a store that trusts one CA certificate
 * and stays alive in between (as a refresh replaces a held CRL), printing each outcome. Exit 0 when every CRL was
 * accepted.
 */
final class OfferCrlFiles {

    private OfferCrlFiles() {
    }

    public static void main(String[] args) throws Exception {
        X509Certificate ca;
        try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
            ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        CrlStore store = new CrlStore(List.of(ca), Clock.systemUTC(), Duration.ZERO);
        boolean all = true;
        for (int i = 1; i < args.length; i++) {
            CrlUpdate update = store.offer(Files.readAllBytes(Path.of(args[i])), args[i]);
            System.out.println(update.getClass().getSimpleName());
            all &= update instanceof CrlUpdate.Accepted;
        }
        System.exit(all ? 0 : 2);
    }
}
