package dev.certknock.client.cli;

import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockReply;
import dev.certknock.protocol.knock.ReplySealer;
import dev.certknock.protocol.knock.VerifiedKnock;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * A knock v2 server on loopback for the CLI tests: verifies each knock and answers as a server behind which the
 * client appears as {@code seenAs} (null: as its real source) would: {@code Opened} when the knock declares that
 * address, else {@code AddressNotSigned}; or stays silent. The "seen" address is only written inside replies.
 */
final class ReplyServer implements AutoCloseable {

    /** A verified knock and where it came from. */
    record Knock(VerifiedKnock verified, InetSocketAddress from) {
    }

    private final DatagramSocket socket;
    private final KnockOpener opener;
    private final InetAddress seenAs;
    private final boolean silent;
    private final LongSupplier serverClock;
    private final ReplySealer sealer = new ReplySealer(new SecureRandom());
    private final List<Knock> knocks = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final Thread thread;

    ReplyServer(KnockOpener opener, InetAddress seenAs, boolean silent, LongSupplier serverClock) throws IOException {
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.opener = opener;
        this.seenAs = seenAs;
        this.silent = silent;
        this.serverClock = serverClock;
        this.thread = new Thread(this::serve, "reply-server");
        thread.setDaemon(true);
        thread.start();
    }

    String port() {
        return Integer.toString(socket.getLocalPort());
    }

    List<Knock> knocks() {
        return knocks;
    }

    List<Throwable> failures() {
        return failures;
    }

    private void serve() {
        try {
            socket.setSoTimeout(100);
        } catch (IOException e) {
            failures.add(e);
            return;
        }
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            try {
                socket.receive(p);
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                return;
            }
            try {
                InetSocketAddress from = (InetSocketAddress) p.getSocketAddress();
                VerifiedKnock k = opener.openAndVerify(Arrays.copyOf(p.getData(), p.getLength()));
                knocks.add(new Knock(k, from));
                if (silent) {
                    continue;
                }
                InetSocketAddress seen = seenAs == null ? from : new InetSocketAddress(seenAs, 40_000);
                boolean declared = seen.getAddress().equals(k.content().declaredIpv4().orElse(null))
                        || seen.getAddress().equals(k.content().declaredIpv6().orElse(null));
                KnockReply reply = declared ? new KnockReply.Opened(serverClock.getAsLong(), seen, 60)
                        : new KnockReply.AddressNotSigned(serverClock.getAsLong(), seen);
                byte[] bytes = sealer.seal(k, reply).orElseThrow();
                socket.send(new DatagramPacket(bytes, bytes.length, from));
            } catch (Exception e) {
                failures.add(e);
            }
        }
    }

    @Override
    public void close() {
        socket.close();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
