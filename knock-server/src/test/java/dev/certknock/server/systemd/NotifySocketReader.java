package dev.certknock.server.systemd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A fake service manager's notify socket: a {@code python3} child binds an {@code AF_UNIX} datagram socket (a path,
 * or {@code @name} for an abstract one; Java 17 has no Unix datagram channel) and prints each datagram it reads as
 * one line, newlines escaped. The test reads the messages here, in arrival order.
 */
final class NotifySocketReader implements AutoCloseable {

    private static final String READER = """
            import socket, sys
            name = sys.argv[1]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind("\\0" + name[1:] if name.startswith("@") else name)
            print("bound", flush=True)
            while True:
                d = s.recv(65536).decode("utf-8", "replace")
                print(d.replace("\\\\", "\\\\\\\\").replace("\\n", "\\\\n"), flush=True)
            """;

    private final Process process;
    private final List<String> messages = new ArrayList<>();

    NotifySocketReader(String socket) throws Exception {
        assumeTrue(exists("python3"), "python3 reads the fake notify socket (CI installs it)");
        process = new ProcessBuilder("python3", "-c", READER, socket).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (!"bound".equals(first)) {
            throw new AssertionError("the notify socket reader did not bind " + socket + ": " + first);
        }
        Thread t = new Thread(() -> {
            try {
                for (String line; (line = out.readLine()) != null;) {
                    synchronized (messages) {
                        messages.add(unescape(line));
                        messages.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the reader was stopped
            }
        }, "notify-socket-reader");
        t.setDaemon(true);
        t.start();
    }

    private static String unescape(String line) {
        StringBuilder b = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                char next = line.charAt(++i);
                b.append(next == 'n' ? '\n' : next);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean exists(String program) {
        try {
            return new ProcessBuilder("sh", "-c", "command -v " + program).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** The messages so far, in order. */
    List<String> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /** Waits for a message, at index {@code from} or later, that matches; returns its index. */
    int await(String what, int from, Predicate<String> matches, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (messages) {
            while (true) {
                for (int i = from; i < messages.size(); i++) {
                    if (matches.test(messages.get(i))) {
                        return i;
                    }
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new AssertionError("timed out waiting for " + what + "; messages: " + messages);
                }
                messages.wait(left);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
