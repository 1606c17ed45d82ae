package dev.certknock.server.firewall.nftables;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import dev.certknock.server.firewall.FirewallException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes set-element batches ({@link NftSetElementBatch}) to the kernel over a netlink socket of its own
 * ({@code NETLINK_NETFILTER}), through libc (JNA, direct mapping): the grant path's writes, which libnftables would
 * parse, check against a cache it rebuilds from the kernel on every run (a dump of tables, chains, sets and objects,
 * and four hash tables of 8,192 buckets per table allocated and initialised: most of its cost per grant, measured
 * with {@code perf} in the network benchmark; docs/DESIGN.md D38) and then encode into these same bytes.
 * Everything else (the table's set-up, listings, dry runs, flushes) stays with libnftables.
 *
 * <p>Every change message asks for an acknowledgement; a batch has succeeded when every one of them is zero, and
 * failed, whole (the kernel commits a batch as one transaction), when any is an error. A reply that does not come
 * within {@link #REPLY_TIMEOUT_MS} fails the batch too. The socket belongs to the network namespace of this process,
 * as libnftables' does. Thread-safe: one batch at a time, under this object's lock.
 */
final class NftNetlink implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NftNetlink.class);

    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_NETFILTER = 12;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SOL_NETLINK = 270;
    private static final int NETLINK_CAP_ACK = 10;
    private static final int NLMSG_ERROR = 2;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    /** How long a reply may take: the kernel answers a batch as it commits it, within the send, so this is a guard. */
    static final int REPLY_TIMEOUT_MS = 5000;
    /** Batches larger than this go to libnftables (the socket's send buffer is about 208 KiB by default). */
    static final int MAX_BATCH_BYTES = 128 * 1024;

    /** libc's socket calls, bound once per process (JNA direct mapping: no proxy or reflection per call). */
    static final class Libc {
        static native int socket(int domain, int type, int protocol);

        static native int setsockopt(int fd, int level, int name, byte[] value, int length);

        static native long send(int fd, byte[] buffer, long length, int flags);

        static native long recv(int fd, byte[] buffer, long length, int flags);

        static native int close(int fd);

        private Libc() {
        }

        static {
            Native.register(Libc.class, NativeLibrary.getInstance("c"));
        }
    }

    private final String table;
    private final byte[] reply = new byte[64 * 1024];
    private int fd;
    private int seq;

    private NftNetlink(String table, int fd) {
        this.table = table;
        this.fd = fd;
        this.seq = (int) (System.nanoTime() & 0x3fffffff);
    }

    /** A socket for writing the elements of {@code table}, or empty (the reason at DEBUG) when none can be opened. */
    static Optional<NftNetlink> open(String table) {
        int fd;
        try {
            fd = Libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        } catch (LinkageError e) { // UnsatisfiedLinkError, NoClassDefFoundError when JNA or libc cannot be bound
            LOG.debug("no netlink socket (libc cannot be bound): {}", e.toString());
            return Optional.empty();
        }
        if (fd < 0) {
            LOG.debug("no netlink socket: errno {}", Native.getLastError());
            return Optional.empty();
        }
        ByteBuffer timeval = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
        timeval.putLong(REPLY_TIMEOUT_MS / 1000).putLong((REPLY_TIMEOUT_MS % 1000) * 1000L);
        byte[] one = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(1).array();
        if (Libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval.array(), 16) != 0
                || Libc.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4) != 0) {
            LOG.debug("netlink socket options refused: errno {}", Native.getLastError());
            Libc.close(fd);
            return Optional.empty();
        }
        return Optional.of(new NftNetlink(table, fd));
    }

    /**
     * Sends the changes as one batch and waits for the kernel's verdict on each.
     *
     * @return false, having sent nothing, when the batch is larger than {@link #MAX_BATCH_BYTES} (the caller then
     *     writes it another way)
     * @throws FirewallException when the kernel refuses the batch (nothing of it was applied) or does not answer
     */
    synchronized boolean apply(List<NftSetElementBatch.Change> changes) throws FirewallException {
        return send(changes, true);
    }

    /**
     * A dry run of {@link #apply}: the kernel checks each change and answers it, then aborts the transaction (the
     * batch is sent without its end, as {@code nft -c} sends it), so nothing is written. It takes the path of a real
     * batch (encoding, the send, the verdicts), so it also warms that path up.
     *
     * @return false, having sent nothing, when the batch is larger than {@link #MAX_BATCH_BYTES}
     * @throws FirewallException when the kernel refuses a change, or does not answer
     */
    synchronized boolean check(List<NftSetElementBatch.Change> changes) throws FirewallException {
        return send(changes, false);
    }

    private boolean send(List<NftSetElementBatch.Change> changes, boolean commit) throws FirewallException {
        if (fd < 0) {
            throw new FirewallException("netlink socket is closed", null);
        }
        if (changes.isEmpty()) {
            return true;
        }
        int first = seq;
        seq += NftSetElementBatch.messages(changes);
        byte[] batch = NftSetElementBatch.encode(table, changes, first, commit);
        if (batch.length > MAX_BATCH_BYTES) {
            seq = first;
            return false;
        }
        long sent = Libc.send(fd, batch, batch.length, 0);
        if (sent != batch.length) {
            throw new FirewallException("netlink: cannot send the batch of " + changes.size() + " set change(s): "
                    + (sent < 0 ? errno(Native.getLastError()) : "only " + sent + " of " + batch.length + " bytes sent"),
                    null);
        }
        awaitVerdicts(changes, first + 1);
        return true;
    }

    /** Reads acknowledgements until each change message ({@code firstChange} onwards) has its own. */
    private void awaitVerdicts(List<NftSetElementBatch.Change> changes, int firstChange) throws FirewallException {
        int pending = changes.size();
        boolean[] seen = new boolean[changes.size()];
        String refused = null;
        while (pending > 0) {
            long n = Libc.recv(fd, reply, reply.length, 0);
            if (n < 0) {
                int errno = Native.getLastError();
                if (errno == EINTR) {
                    continue;
                }
                throw new FirewallException("netlink: no verdict on the batch of " + changes.size() + " set change(s)"
                        + (errno == EAGAIN ? " within " + REPLY_TIMEOUT_MS + " ms" : ": " + errno(errno))
                        + "; its outcome is unknown", null);
            }
            ByteBuffer b = ByteBuffer.wrap(reply, 0, (int) n).order(ByteOrder.nativeOrder());
            while (b.remaining() >= NftSetElementBatch.NLMSG_HDRLEN) {
                int at = b.position();
                int length = b.getInt(at);
                short type = b.getShort(at + 4);
                if (length < NftSetElementBatch.NLMSG_HDRLEN || length > b.remaining()) {
                    break;
                }
                if (type == NLMSG_ERROR && length >= NftSetElementBatch.NLMSG_HDRLEN + 4 + 16) {
                    int error = b.getInt(at + 16);
                    int ofSeq = b.getInt(at + 20 + 8);
                    int index = ofSeq - firstChange;
                    if (index >= 0 && index < seen.length && !seen[index]) {
                        seen[index] = true;
                        pending--;
                        if (error != 0 && refused == null) {
                            NftSetElementBatch.Change c = changes.get(index);
                            refused = errno(-error) + " at " + (c.add() ? "add" : "delete") + " element inet " + table
                                    + " " + c.set() + " " + c.items().get(0).element().text()
                                    + (c.items().size() > 1 ? " (and " + (c.items().size() - 1) + " more)" : "");
                        }
                    }
                }
                b.position(at + ((length + 3) & ~3));
                if (b.position() > b.limit()) {
                    break;
                }
            }
        }
        if (refused != null) {
            throw new FirewallException("the kernel refused the batch of " + changes.size()
                    + " set change(s), nothing of it was applied: " + refused, null);
        }
    }

    /** An errno as its name and meaning, for the few a set change meets; the number otherwise. */
    static String errno(int errno) {
        String name = switch (errno) {
            case 1 -> "EPERM (needs CAP_NET_ADMIN)";
            case 2 -> "ENOENT (no such table, set or element: is the table set up?)";
            case 7 -> "E2BIG (argument list too long)";
            case 12 -> "ENOMEM (out of memory)";
            case 16 -> "EBUSY (device or resource busy)";
            case 17 -> "EEXIST (the element exists)";
            case 22 -> "EINVAL (invalid argument)";
            case 23 -> "ENFILE (the set is full)";
            case 28 -> "ENOSPC (no space left)";
            case 34 -> "ERANGE (a value is out of range)";
            case 90 -> "EMSGSIZE (message too long)";
            case 95 -> "EOPNOTSUPP (operation not supported)";
            default -> "errno " + errno;
        };
        return name;
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            Libc.close(fd);
            fd = -1;
        }
    }
}
