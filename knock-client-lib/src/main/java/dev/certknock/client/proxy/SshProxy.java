package dev.certknock.client.proxy;

import dev.certknock.client.knock.AwaitListener;
import dev.certknock.client.knock.AwaitedConnection;
import dev.certknock.client.knock.KnockClient;
import dev.certknock.client.knock.KnockException;
import dev.certknock.client.knock.KnockOptions;
import dev.certknock.client.knock.KnockReceipt;
import dev.certknock.client.knock.OpenConfirmation;
import dev.certknock.protocol.grant.PortGrant;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Knocks, waits until a TCP port accepts a connection, then relays a pair of streams over that very connection:
 * as an {@code ssh} ProxyCommand, {@code in} and {@code out} are the process's stdin and stdout. Progress goes to
 * the listener, never to {@code out} (that is the SSH channel).
 */
public final class SshProxy {

    private final KnockClient client;

    /**
     * A proxy that knocks with this client.
     *
     * @param client the client
     */
    public SshProxy(KnockClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    /**
     * How a proxy run went.
     *
     * @param knock the knock's receipt
     * @param confirmation how waiting for the port ended
     * @param relayed the bytes relayed, null when the port never opened
     */
    public record Outcome(KnockReceipt knock, OpenConfirmation confirmation, StreamRelay.Totals relayed) {

        /**
         * Whether the port opened and the streams were relayed.
         *
         * @return true when connected
         */
        public boolean connected() {
            return confirmation.opened();
        }
    }

    /**
     * Knocks for {@code grants}, waits up to {@code timeout} for {@code tcpPort} on the knocked address, then
     * relays until the server closes the connection. When the port never opens, returns with
     * {@code relayed} null and nothing written to {@code out}.
     *
     * @param grants the ports to open
     * @param options the knock's options
     * @param tcpPort the port to connect to on the knocked address
     * @param timeout how long to wait for it
     * @param in what goes to the server (stdin)
     * @param out what the server sends goes here (stdout)
     * @param listener hears the waiting's progress
     * @return how it went
     * @throws KnockException when the knock fails its checks or cannot be sent
     * @throws IOException when relaying fails
     */
    public Outcome run(List<PortGrant> grants, KnockOptions options, int tcpPort, Duration timeout,
            InputStream in, OutputStream out, AwaitListener listener) throws KnockException, IOException {
        Objects.requireNonNull(grants, "grants");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(listener, "listener");
        KnockReceipt receipt = client.knock(grants, options);
        try (AwaitedConnection connection = client.awaitConnection(receipt, tcpPort, timeout, listener)) {
            if (connection.socket().isEmpty()) {
                return new Outcome(receipt, connection.confirmation(), null);
            }
            StreamRelay.Totals totals = StreamRelay.relay(connection.socket().get(), in, out);
            return new Outcome(receipt, connection.confirmation(), totals);
        }
    }
}
