package dev.certknock.server.systemd;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The notify protocol spoken directly, for hosts where {@code NOTIFY_SOCKET} is set but libsystemd cannot be
 * loaded: one {@code AF_UNIX} datagram per message, from a socket opened for it and closed after, as
 * {@code sd_notify} does (Java 17 has no Unix datagram channel, so the socket calls go to libc through JNA). The
 * address is an absolute path, or {@code @name} for an abstract socket; other forms (vsock) are refused.
 */
public final class DatagramNotifier implements Notifier {

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    /** {@code sizeof(sun_path)} on Linux. */
    private static final int SUN_PATH = 108;

    /** The libc calls used here. */
    interface LibC extends Library {
        int socket(int domain, int type, int protocol);

        NativeLong sendto(int fd, byte[] buffer, NativeLong length, int flags, byte[] address, int addressLength);

        int close(int fd);
    }

    private final String socket;
    private final byte[] address;
    private final int addressLength;
    private final LibC libc;

    private DatagramNotifier(String socket, byte[] address, int addressLength, LibC libc) {
        this.socket = socket;
        this.address = address;
        this.addressLength = addressLength;
        this.libc = libc;
    }

    /**
     * A notifier sending to {@code socket} ({@code /path} or {@code @abstract}); IllegalArgumentException for
     * another form or a name too long for {@code sockaddr_un}, LinkageError when libc cannot be loaded.
     */
    static DatagramNotifier to(String socket) {
        byte[] name = socket.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = socket.startsWith("@");
        if (!abstractName && !socket.startsWith("/")) {
            throw new IllegalArgumentException("NOTIFY_SOCKET '" + socket + "' is neither an absolute path nor @abstract");
        }
        if (name.length < 2 || name.length >= SUN_PATH) {
            throw new IllegalArgumentException("NOTIFY_SOCKET '" + socket + "' does not fit a sockaddr_un");
        }
        ByteBuffer sa = ByteBuffer.allocate(2 + SUN_PATH).order(ByteOrder.nativeOrder());
        sa.putShort((short) AF_UNIX);
        sa.put(name);
        if (abstractName) {
            sa.put(2, (byte) 0); // the leading '@' is a NUL byte in the address; no trailing NUL
        }
        int length = 2 + name.length + (abstractName ? 0 : 1);
        return new DatagramNotifier(socket, sa.array(), length, Native.load("c", LibC.class));
    }

    @Override
    public void send(String state) throws IOException {
        byte[] message = state.getBytes(StandardCharsets.UTF_8);
        int fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket(AF_UNIX, SOCK_DGRAM) failed: errno " + Native.getLastError());
        }
        try {
            long sent = libc.sendto(fd, message, new NativeLong(message.length), MSG_NOSIGNAL, address, addressLength)
                    .longValue();
            if (sent < 0) {
                throw new IOException("sending to " + socket + " failed: errno " + Native.getLastError());
            }
            if (sent != message.length) {
                throw new IOException("sending to " + socket + ": " + sent + " of " + message.length + " bytes sent");
            }
        } finally {
            libc.close(fd);
        }
    }
}
