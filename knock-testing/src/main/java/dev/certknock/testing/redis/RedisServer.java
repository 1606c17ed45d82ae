package dev.certknock.testing.redis;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} (the Debian package's, {@value #BINARY}) for tests and benchmarks: on loopback, on a
 * free port, with nothing persisted ({@code --save '' --appendonly no --dir <dir>}). {@link #close()} stops it
 * (SIGKILL, which ends a paused one too); a shutdown hook does the same if the JVM ends first, so a failing test
 * leaves no server behind. It can be stopped and started again on the same port, and paused with SIGSTOP (a Redis
 * that hangs: connections stay open, nothing answers).
 */
public final class RedisServer implements AutoCloseable {

    /** Where Debian's redis-server package puts the server; .ci/run installs it. */
    public static final String BINARY = "/usr/bin/redis-server";

    private final Path dir;
    private final int port;
    private final List<String> extraArgs;
    private final Thread hook;
    private Process process;

    private RedisServer(Path dir, int port, List<String> extraArgs) {
        this.dir = dir;
        this.port = port;
        this.extraArgs = List.copyOf(extraArgs);
        this.hook = new Thread(this::kill, "redis-server-stopper");
    }

    /**
     * Starts a server in {@code dir} (its log goes to {@code dir/redis.log}) and waits until it answers PING.
     *
     * @param extraArgs more redis-server options, e.g. {@code --requirepass}, {@code secret}
     * @throws IllegalStateException if {@value #BINARY} is missing (install the redis-server package)
     */
    public static RedisServer start(Path dir, String... extraArgs) throws IOException {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException(BINARY + " is missing: install the Debian package redis-server "
                    + "(.ci/run does); its service may stay stopped, the tests start their own");
        }
        RedisServer s = new RedisServer(dir, freePort(), List.of(extraArgs));
        Runtime.getRuntime().addShutdownHook(s.hook);
        try {
            s.startProcess();
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** The process id of the running server. */
    public long pid() {
        return process.pid();
    }

    /** Whether the server process runs (paused or not). */
    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    /** Stops the server (SIGKILL: what a crash or a lost host looks like to its clients) and waits for its end. */
    public synchronized void stop() {
        kill();
    }

    /** Starts the server again on the same port, and waits until it answers PING. */
    public synchronized void restart() throws IOException {
        kill();
        startProcess();
    }

    /** SIGSTOP: the server hangs with its connections open. */
    public synchronized void pause() throws IOException {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public synchronized void resume() throws IOException {
        signal("CONT");
    }

    /**
     * Sends one command over a fresh connection and returns its reply: a simple string or bulk string as text, an
     * integer as its decimal text, null for a null reply, {@code "ERR ..."} for an error. Arrays are not read.
     */
    public String command(String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (String a : args) {
                byte[] b = a.getBytes(StandardCharsets.UTF_8);
                req.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
                req.writeBytes(b);
                req.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write(req.toByteArray());
            out.flush();
            return readReply(new BufferedInputStream(s.getInputStream()));
        }
    }

    private static String readReply(InputStream in) throws IOException {
        String line = readLine(in);
        char type = line.charAt(0);
        String rest = line.substring(1);
        switch (type) {
            case '+':
            case ':':
                return rest;
            case '-':
                return rest;
            case '$': {
                int n = Integer.parseInt(rest);
                if (n < 0) {
                    return null;
                }
                byte[] b = in.readNBytes(n + 2);
                return new String(b, 0, n, StandardCharsets.UTF_8);
            }
            default:
                throw new IOException("unexpected Redis reply: " + line);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("Redis closed the connection");
            }
            if (prev == '\r' && c == '\n') {
                byte[] bytes = b.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            b.write(c);
            prev = c;
        }
    }

    private void startProcess() throws IOException {
        List<String> cmd = new ArrayList<>(List.of(BINARY, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toAbsolutePath().toString(), "--daemonize", "no"));
        cmd.addAll(extraArgs);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server ended at start (exit " + process.exitValue() + "): see "
                        + dir.resolve("redis.log"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                s.setSoTimeout(2000);
                s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                String reply = readLine(new BufferedInputStream(s.getInputStream()));
                if (reply.startsWith("+PONG") || reply.startsWith("-NOAUTH")) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            sleep(Duration.ofMillis(20));
        }
        kill();
        throw new IOException("redis-server did not answer on port " + port + " within 10 s", last);
    }

    private void signal(String name) throws IOException {
        try {
            Process p = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private synchronized void kill() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroyForcibly(); // SIGKILL also ends a stopped process
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server " + p.pid() + " did not end after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted"));
        }
    }

    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs anyway
        }
    }
}
