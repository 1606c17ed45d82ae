package dev.certknock.client.knock;

import java.io.IOException;
import java.net.Socket;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of {@link KnockClient#awaitConnection}: the confirmation, and the connected socket when the port
 * opened (the caller owns it; closing this closes it).
 */
public final class AwaitedConnection implements AutoCloseable {

    private final OpenConfirmation confirmation;
    private final Socket socket;

    AwaitedConnection(OpenConfirmation confirmation, Socket socket) {
        this.confirmation = Objects.requireNonNull(confirmation);
        this.socket = socket;
    }

    /**
     * How waiting ended.
     *
     * @return the confirmation
     */
    public OpenConfirmation confirmation() {
        return confirmation;
    }

    /**
     * The connected socket.
     *
     * @return the socket, present exactly when {@code confirmation().opened()}
     */
    public Optional<Socket> socket() {
        return Optional.ofNullable(socket);
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
        }
    }
}
