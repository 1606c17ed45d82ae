package dev.certknock.server.status;

import dev.certknock.io.LockFile;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's end of the status socket: a Unix domain socket, mode 0600, that answers the one request line
 * {@value #REQUEST} with one JSON document ({@link StatusJson}) and closes (unanswered while the answer supplier
 * gives null: the server is still starting). Never on the network.
 *
 * <p>Bounded: one connection at a time, a request line of at most {@value #MAX_REQUEST_BYTES} bytes, and
 * {@link #DEADLINE} for the whole exchange (reading the request and writing the answer); anything else is closed
 * unanswered. Only a peer running as the socket's owner or as root is answered (the kernel's peer credentials),
 * so the moment between bind and chmod, when the socket has the process umask's mode, gives nobody anything.
 *
 * <p>At start, a socket file left by a killed server (nothing accepts on it) is replaced; a socket on which a
 * server answers refuses the start, as does a path that is not a socket. The check and the replacement happen
 * under a lock on the sibling file {@code <socket>.lock}, held until {@link #close()}: two servers starting at
 * once with one status socket cannot both find it stale and take it from each other (the second is refused).
 * The lock file stays (mode 0600, empty); deleting it would let a third server lock a different file.
 */
public final class StatusSocket implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StatusSocket.class);

    public static final String REQUEST = "status";
    static final int MAX_REQUEST_BYTES = 64;
    static final Duration DEADLINE = Duration.ofSeconds(2);

    private final Path path;
    private final FileLock lock;
    private final ServerSocketChannel channel;
    private final UserPrincipal owner;
    private final Supplier<String> answer;
    private final Thread acceptor;
    private final ScheduledExecutorService watchdog;
    private volatile boolean closed;

    private StatusSocket(Path path, FileLock lock, ServerSocketChannel channel, UserPrincipal owner,
            Supplier<String> answer) {
        this.path = path;
        this.lock = lock;
        this.channel = channel;
        this.owner = owner;
        this.answer = answer;
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "status-socket-deadline");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::serve, "status-socket");
        acceptor.setDaemon(true);
    }

    /**
     * Binds the socket at {@code path} (creating missing directories, mode 0700) and answers each status request
     * with what {@code answer} gives.
     */
    public static StatusSocket open(Path path, Supplier<String> answer) throws IOException {
        Path socket = path.toAbsolutePath();
        Path dir = socket.getParent();
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                throw new IOException("cannot create the directory of the status socket " + socket + " (status.socket, "
                        + "default beside knock.replayJournal): " + e, e);
            }
        }
        FileLock lock = lock(socket);
        try {
            replaceIfStale(socket);
            return bind(socket, lock, answer);
        } catch (IOException | RuntimeException e) {
            release(lock);
            throw e;
        }
    }

    /** Takes {@code <socket>.lock}, or refuses: another server holds it (it is starting, or running). */
    private static FileLock lock(Path socket) throws IOException {
        Path lockPath = LockFile.beside(socket);
        try {
            return LockFile.tryLock(lockPath).orElseThrow(() -> new IOException("another knock-server is running or "
                    + "starting: it holds " + lockPath + " (stop it first, or give this server its own status.socket "
                    + "and replay journal)"));
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("another knock-server")) {
                throw e;
            }
            throw new IOException("cannot lock the status socket's lock file " + lockPath + ": " + e, e);
        }
    }

    private static void release(FileLock lock) {
        try {
            LockFile.release(lock);
        } catch (IOException e) {
            LOG.debug("releasing the status socket's lock: {}", e.toString());
        }
    }

    private static StatusSocket bind(Path socket, FileLock lock, Supplier<String> answer) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        UserPrincipal owner;
        try {
            channel.bind(UnixDomainSocketAddress.of(socket), 4);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            owner = Files.getOwner(socket, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw new IOException("cannot create the status socket " + socket + ": " + e.getMessage(), e);
        }
        StatusSocket s = new StatusSocket(socket, lock, channel, owner, answer);
        s.acceptor.start();
        return s;
    }

    /** Removes a socket file nothing answers on; refuses a live one, or anything that is not a socket. */
    private static void replaceIfStale(Path socket) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (!a.isOther()) {
            throw new IOException("status socket path " + socket + " exists and is not a socket: remove it or set "
                    + "status.socket to another path");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new IOException("another knock-server is running: it answers on the status socket " + socket
                    + " (stop it first, or give this server its own status.socket and replay journal)");
        } catch (ConnectException e) {
            LOG.info("replacing the stale status socket {} (left by a server that did not stop cleanly)", socket);
            Files.deleteIfExists(socket);
        }
    }

    /** The socket's path. */
    public Path path() {
        return path;
    }

    private void serve() {
        while (!closed) {
            SocketChannel c;
            try {
                c = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("status socket: accept failed: {}", e.toString());
                }
                return;
            }
            ScheduledFuture<?> deadline = watchdog.schedule(() -> closeQuietly(c), DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            try (c) {
                String report;
                if (mayAsk(c) && REQUEST.equals(readLine(c)) && (report = answer.get()) != null) {
                    ByteBuffer out = ByteBuffer.wrap((report + "\n").getBytes(StandardCharsets.UTF_8));
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                }
            } catch (IOException e) {
                LOG.debug("status socket: exchange ended: {}", e.toString());
            } catch (RuntimeException e) {
                LOG.warn("status socket: the report failed: {}", e.toString());
            } finally {
                deadline.cancel(false);
            }
        }
    }

    /** Whether the peer runs as the socket's owner or as root. */
    private boolean mayAsk(SocketChannel c) throws IOException {
        UnixDomainPrincipal peer = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
        boolean ok = peer.user().equals(owner) || "root".equals(peer.user().getName());
        if (!ok) {
            LOG.warn("status socket: refused a request from user {}", peer.user().getName());
        }
        return ok;
    }

    /** The request line without its newline, or null when it is longer than the limit or never ends. */
    static String readLine(SocketChannel c) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_REQUEST_BYTES + 1);
        while (in.hasRemaining()) {
            if (c.read(in) < 0) {
                break;
            }
            for (int i = 0; i < in.position(); i++) {
                if (in.get(i) == '\n') {
                    String line = new String(in.array(), 0, i, StandardCharsets.US_ASCII);
                    return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
                }
            }
        }
        return null;
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** Stops answering and removes the socket file. */
    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing the status socket: {}", e.toString());
        }
        try {
            acceptor.join(DEADLINE.toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watchdog.shutdownNow();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("could not remove the status socket {}: {}", path, e.toString());
        }
        release(lock); // after the socket is gone: a server that starts now finds no socket, or gets the lock
    }
}
