package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Reads the server certificate file, on a second thread when asked (DESIGN.md D42): a knock reads it while its bundle
 * opens, which takes the bundle's key derivations, so that the certificate's parsing (the JDK's X.509 code run for
 * the first time, some 20 ms of a cold start) costs no time of its own on two cores. {@link #result()} waits for the
 * read and gives the certificates, or throws its failure (a {@link UserException} naming the file) on the caller's
 * thread, every time it is called.
 */
final class ServerCertificateRead {

    private final Path file;
    private final Thread thread;
    private List<X509Certificate> certificates;
    private RuntimeException failure;
    private boolean done;

    /**
     * @param file the server certificate file
     * @param inBackground read it now on a second (daemon) thread; otherwise on the first {@link #result()}
     */
    ServerCertificateRead(Path file, boolean inBackground) {
        this.file = file;
        if (inBackground && Runtime.getRuntime().availableProcessors() > 1) {
            thread = new Thread(this::read, "certknock-server-cert");
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    private void read() {
        List<X509Certificate> read = null;
        RuntimeException failed = null;
        try {
            read = CertificateFiles.read(file, "server certificate");
        } catch (RuntimeException e) {
            failed = e; // thrown on the caller's thread by result(), never printed by this one
        }
        synchronized (this) {
            certificates = read;
            failure = failed;
            done = true;
        }
    }

    /** The certificates, in file order, once read; the read's failure otherwise. */
    List<X509Certificate> result() {
        if (thread == null) {
            synchronized (this) {
                if (!done) {
                    read();
                }
            }
        } else {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // nothing in knock interrupts it; a caller that does gets an error
                throw new UserException(ExitCodes.FAILURE, "interrupted while reading the server certificate " + file, e);
            }
        }
        synchronized (this) {
            if (failure != null) {
                throw failure;
            }
            return certificates;
        }
    }
}
