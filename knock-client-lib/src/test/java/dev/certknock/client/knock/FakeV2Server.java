package dev.certknock.client.knock;

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

/**
 * A knock v2 server on loopback, for tests: receives knocks on a real UDP socket, opens and verifies them with
 * the server key, and sends back what the script says (sealed replies, junk) to the knock's source. Sends
 * nothing anywhere else: an "observed" address in a reply is only written inside it.
 */
public final class FakeV2Server implements AutoCloseable {

    /** A verified knock and where it came from, in the order received. */
    public record Knock(VerifiedKnock verified, InetSocketAddress from) {
    }

    /** What to send back to the {@code index}-th knock (from 0): datagrams, in order; empty: silence. */
    @FunctionalInterface
    public interface Script {
        List<byte[]> answer(FakeV2Server server, Knock knock, int index) throws Exception;
    }

    private final DatagramSocket socket;
    private final KnockOpener opener;
    private final Script script;
    private final ReplySealer sealer = new ReplySealer(new SecureRandom());
    private final List<Knock> knocks = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final Thread thread;

    public FakeV2Server(KnockOpener opener, Script script) throws IOException {
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.opener = opener;
        this.script = script;
        this.thread = new Thread(this::serve, "fake-v2-server");
        thread.setDaemon(true);
        thread.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    public List<Knock> knocks() {
        return knocks;
    }

    /** What went wrong on the server thread (a knock that did not verify, a script that threw). */
    public List<Throwable> failures() {
        return failures;
    }

    public byte[] seal(Knock k, KnockReply reply) {
        return sealer.seal(k.verified(), reply).orElseThrow();
    }

    public byte[] seal(VerifiedKnock k, KnockReply reply) {
        return sealer.seal(k, reply).orElseThrow();
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
                return; // closed
            }
            try {
                byte[] bytes = Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength());
                Knock k = new Knock(opener.openAndVerify(bytes), (InetSocketAddress) p.getSocketAddress());
                knocks.add(k);
                for (byte[] answer : script.answer(this, k, knocks.size() - 1)) {
                    socket.send(new DatagramPacket(answer, answer.length, k.from()));
                }
            } catch (Exception | AssertionError e) {
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
