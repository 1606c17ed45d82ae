package dev.certknock.examples;

import dev.certknock.client.CertificateFiles;
import dev.certknock.client.identity.ClientIdentity;
import dev.certknock.client.identity.IdentityException;
import dev.certknock.client.knock.KnockClient;
import dev.certknock.client.knock.KnockException;
import dev.certknock.client.knock.KnockOptions;
import dev.certknock.client.knock.KnockOutcome;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.knock.KnockTarget;
import dev.certknock.client.knock.OpenConfirmation;
import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;

/** Knocks for a TCP port and waits until it opens (docs/CLIENT.md section 8 shows this file as it is). */
public final class KnockExample {

    private KnockExample() {
    }

    /**
     * Knocks for {@code tcpPort} on a certknock server and waits up to 20 s for the port to accept connections.
     *
     * @param bundle the client's PKCS#12 bundle (alice.p12)
     * @param password its password, from a file or a prompt (never from the command line)
     * @param serverCertificate the server's certificate file, PEM or DER (gw1.pem)
     * @param host the server's name or address
     * @param knockPort the server's UDP knock port ({@link KnockTarget#DEFAULT_KNOCK_PORT} unless configured)
     * @param tcpPort the port to open: the client certificate must grant it
     * @return whether the port opened
     * @throws IdentityException when the bundle cannot be loaded (its reason says why: WRONG_PASSWORD, ...)
     * @throws IOException when the server certificate file cannot be read
     * @throws CertificateException when it is not a PEM or DER certificate
     * @throws KnockException when a check before sending fails (its reason says which) or sending fails
     */
    public static OpenConfirmation knockAndWait(Path bundle, char[] password, Path serverCertificate, String host,
            int knockPort, int tcpPort) throws IdentityException, IOException, CertificateException, KnockException {
        ClientIdentity me = ClientIdentity.fromPkcs12(bundle, password);  // or .of(key, certificates),
                                                                         // or .fromKeyStore(pkcs11, alias, pin)
        KnockTarget target = KnockTarget.of(host, CertificateFiles.read(serverCertificate)).withKnockPort(knockPort);
        KnockClient client = KnockClient.builder(me, target).build();    // build once: immutable, thread-safe
        KnockReceipt sent = client.knock(List.of(PortGrant.parse("tcp/" + tcpPort)),
                KnockOptions.defaults().withDurationSeconds(120));       // v2: waits up to 1 s for the reply
        KnockOutcome outcome = sent.outcome();
        if (outcome instanceof KnockOutcome.Confirmed c) {
            System.out.println("open for " + c.openSeconds() + " s for " + c.observedSource());
        } else if (outcome instanceof KnockOutcome.Unconfirmed u) {
            System.out.println("no reply within " + u.waited() + ": the port may open all the same");
        }                                                                // NotWaited: withoutReply(), or v1
        return client.awaitOpen(sent, tcpPort, Duration.ofSeconds(20)); // optional; or awaitOpenAsync(..., executor)
    }
}
