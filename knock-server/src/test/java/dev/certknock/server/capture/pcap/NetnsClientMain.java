package dev.certknock.server.capture.pcap;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import org.pcap4j.core.PcapHandle;

/**
 * The client side of {@link PcapCaptureIT}, run with {@code ip netns exec} in the client namespace. Each
 * argument is one thing to send:
 * <ul>
 *   <li>{@code udp,<source address>,<source port>,<destination address>,<destination port>,<hex payload>}:
 *       a datagram through an ordinary socket;</li>
 *   <li>{@code raw,<interface>,<hex frame>}: a hand-made Ethernet frame injected with libpcap.</li>
 * </ul>
 */
public final class NetnsClientMain {

    private NetnsClientMain() {
    }

    public static void main(String[] args) throws Exception {
        HexFormat hex = HexFormat.of();
        for (String arg : args) {
            String[] f = arg.split(",");
            switch (f[0]) {
                case "udp" -> {
                    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(f[1]),
                            Integer.parseInt(f[2])))) {
                        byte[] payload = hex.parseHex(f[5]);
                        s.send(new DatagramPacket(payload, payload.length,
                                new InetSocketAddress(InetAddress.getByName(f[3]), Integer.parseInt(f[4]))));
                    }
                }
                case "raw" -> {
                    try (PcapHandle h = new PcapHandle.Builder(f[1]).snaplen(2048).timeoutMillis(10).build()) {
                        h.sendPacket(hex.parseHex(f[2]));
                    }
                }
                default -> throw new IllegalArgumentException("unknown item " + arg);
            }
        }
        System.out.println("SENT " + args.length);
    }
}
