package dev.certknock.server.status;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Timer;
import java.util.TimerTask;

/** Asks a running server for its {@link StatusReport} over its status socket ({@link StatusSocket}). */
public final class StatusClient {

    /** The most an answer may be: a report of 100,000 open grants fits. */
    static final int MAX_ANSWER_BYTES = 64 * 1024 * 1024;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private StatusClient() {
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** Sends the status request and reads the answer, within {@code timeout}. */
    public static StatusResult ask(Path socket, Duration timeout) {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return new StatusResult.NotRunning(socket, "no status socket at " + socket + ": is the server running, "
                    + "with this configuration?");
        }
        Timer timer = new Timer("status-client-deadline", true);
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            timer.schedule(new TimerTask() {
                @Override
                public void run() {
                    closeQuietly(c); // the read or connect below ends with AsynchronousCloseException
                }
            }, timeout.toMillis());
            c.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer request = ByteBuffer.wrap((StatusSocket.REQUEST + "\n").getBytes(StandardCharsets.US_ASCII));
            while (request.hasRemaining()) {
                c.write(request);
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (c.read(buf) >= 0) {
                answer.write(buf.array(), 0, buf.position());
                buf.clear();
                if (answer.size() > MAX_ANSWER_BYTES) {
                    return new StatusResult.Failed(socket, "the answer is over " + MAX_ANSWER_BYTES + " bytes");
                }
            }
            String json = answer.toString(StandardCharsets.UTF_8).strip();
            if (json.isEmpty()) {
                return new StatusResult.Failed(socket, "the server closed the connection without an answer (is this "
                        + "user its owner or root?)");
            }
            return new StatusResult.Answered(StatusJson.read(json), json);
        } catch (ConnectException e) {
            return new StatusResult.NotRunning(socket, "nothing answers on " + socket + " (a stale socket: the server "
                    + "is not running)");
        } catch (AsynchronousCloseException e) {
            return new StatusResult.Failed(socket, "no answer within " + timeout.toMillis() + " ms");
        } catch (AccessDeniedException e) {
            return new StatusResult.Failed(socket, "permission denied on " + socket + ": run as root or as the server's user");
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            return new StatusResult.Failed(socket, m.contains("ermission denied")
                    ? "permission denied on " + socket + ": run as root or as the server's user"
                    : "cannot ask " + socket + ": " + m);
        } finally {
            timer.cancel();
        }
    }
}
