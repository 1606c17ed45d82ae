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

    public SshProxy(KnockClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    /** How a proxy run went. */
    public record Outcome(KnockReceipt knock, OpenConfirmation confirmation, StreamRelay.Totals relayed) {

        /** True when the port opened and the streams were relayed. */
        public boolean connected() {
            return confirmation.opened();
        }
    }

    /**
     * Knocks for {@code grants}, waits up to {@code timeout} for {@code tcpPort} on the knocked address, then
     * relays until the server closes the connection. When the port never opens, returns with
     * {@code relayed} null and nothing written to {@code out}.
     */
    public Outcome run(List<PortGrant> grants, KnockOptions options, int tcpPort, Duration timeout,
            InputStream in, OutputStream out, AwaitListener listener) throws KnockException, IOException {
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
