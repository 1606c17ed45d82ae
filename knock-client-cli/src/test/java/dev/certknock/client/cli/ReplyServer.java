package dev.certknock.client.cli;

import dev.certknock.client.knock.FakeV2Server;
import dev.certknock.protocol.knock.KnockOpener;
import dev.certknock.protocol.knock.KnockReply;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The client library's loopback knock v2 server ({@link FakeV2Server}) scripted for the CLI tests: it answers as a
 * server behind which the client appears as {@code seenAs} (null: as its real source) would: {@code Opened} when the
 * knock declares that address, else {@code AddressNotSigned}; or stays silent. The "seen" address is only written
 * inside replies.
 */
final class ReplyServer implements AutoCloseable {

    private final FakeV2Server server;

    ReplyServer(KnockOpener opener, InetAddress seenAs, boolean silent, LongSupplier serverClock) throws IOException {
        this.server = new FakeV2Server(opener, (s, k, index) -> {
            if (silent) {
                return List.of();
            }
            InetSocketAddress seen = seenAs == null ? k.from() : new InetSocketAddress(seenAs, 40_000);
            var content = k.verified().content();
            boolean declared = seen.getAddress().equals(content.declaredIpv4().orElse(null))
                    || seen.getAddress().equals(content.declaredIpv6().orElse(null));
            KnockReply reply = declared ? new KnockReply.Opened(serverClock.getAsLong(), seen, 60)
                    : new KnockReply.AddressNotSigned(serverClock.getAsLong(), seen);
            return List.of(s.seal(k, reply));
        });
    }

    String port() {
        return Integer.toString(server.port());
    }

    List<FakeV2Server.Knock> knocks() {
        return server.knocks();
    }

    List<Throwable> failures() {
        return server.failures();
    }

    @Override
    public void close() {
        server.close();
    }
}
