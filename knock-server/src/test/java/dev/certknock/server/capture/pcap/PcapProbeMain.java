package dev.certknock.server.capture.pcap;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

/**
 * Runs a {@link PcapCapture} in its own JVM (for {@link PcapCaptureIT}, started with {@code ip netns exec} so
 * it captures inside a network namespace) and reports on stdout, one line each:
 * {@code READY} (or {@code START-FAILED <message>}), {@code DATAGRAM <address> <port> <hex payload>}, {@code STATS <CaptureStats>},
 * {@code SKIPPED <reason> <count>} and {@code CLOSED}. Commands on stdin: {@code STATS}, {@code STOP}.
 *
 * <p>Arguments: interface, knock port, longest run in seconds (then it stops by itself).
 */
public final class PcapProbeMain {

    private PcapProbeMain() {
    }

    public static void main(String[] args) throws Exception {
        String iface = args[0];
        int port = Integer.parseInt(args[1]);
        long maxSeconds = Long.parseLong(args[2]);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PcapCapture capture = new PcapCapture(PcapCapture.Settings.of(iface, port)
                .withBackoff(Duration.ofMillis(200), Duration.ofSeconds(2)), Clock.systemUTC());
        HexFormat hex = HexFormat.of();
        try {
            capture.start(d -> {
                synchronized (out) {
                    out.println("DATAGRAM " + d.source().getAddress().getHostAddress() + " " + d.source().getPort()
                            + " " + hex.formatHex(Payloads.of(d)));
                }
                return true;
            });
        } catch (java.io.IOException e) {
            out.println("START-FAILED " + e.getMessage());
            System.exit(4);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(maxSeconds).toNanos();
        while (!capture.stats().capturing()) {
            if (System.nanoTime() > deadline) {
                out.println("NOT-CAPTURING");
                System.exit(3);
            }
            Thread.sleep(20);
        }
        out.println("READY");
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(Duration.ofSeconds(maxSeconds).toMillis());
                out.println("TIMEOUT");
                System.exit(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        watchdog.setDaemon(true);
        watchdog.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null && !line.equals("STOP"); line = in.readLine()) {
            if (line.equals("STATS")) {
                synchronized (out) {
                    out.println("STATS " + capture.stats());
                }
            }
        }
        capture.close();
        synchronized (out) {
            out.println("STATS " + capture.stats());
            for (Map.Entry<SkipReason, Long> e : capture.skipped().entrySet()) {
                out.println("SKIPPED " + e.getKey() + " " + e.getValue());
            }
            out.println("CLOSED");
        }
    }
}
