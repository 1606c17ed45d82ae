package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * A password prompt on the controlling terminal ({@code /dev/tty}) when standard input and output are not one:
 * what ssh's own prompts do, and what a ProxyCommand gets (ssh gives it pipes, and leaves it the terminal). Echo is
 * turned off with {@code stty -echo} on that terminal and the terminal's settings are restored afterwards
 * ({@code stty -g}), also when reading fails; when echo cannot be turned off, nothing is read (the password would
 * show). The password never passes through a String.
 */
final class TtyPrompt {

    /** Longest password line read, in bytes: a terminal line is far shorter, and more is refused, not truncated. */
    static final int MAX_BYTES = 4096;

    private TtyPrompt() {
    }

    /**
     * @return the line typed (without the newline), or null when there is no controlling terminal to open
     * @throws UserException when echo cannot be turned off, or the terminal closes before a line is read
     */
    static char[] read(Path tty, String prompt) {
        FileInputStream in;
        try {
            in = new FileInputStream(tty.toFile());
        } catch (IOException e) {
            return null; // no controlling terminal (ENXIO), or none at all
        }
        try (in; FileOutputStream out = new FileOutputStream(tty.toFile())) {
            String saved = stty(tty, "-g");
            if (saved == null || stty(tty, "-echo") == null) {
                throw new UserException(ExitCodes.USAGE, "cannot turn off echo on " + tty + " (stty) to ask for the "
                        + "password: use --password-file FILE");
            }
            Thread restore = new Thread(() -> stty(tty, saved.strip()));
            Runtime.getRuntime().addShutdownHook(restore); // Ctrl-C at the prompt leaves the terminal as it was
            try {
                out.write(prompt.getBytes(StandardCharsets.UTF_8));
                out.flush();
                return line(in, tty);
            } finally {
                stty(tty, saved.strip());
                try {
                    Runtime.getRuntime().removeShutdownHook(restore);
                } catch (IllegalStateException e) {
                    // shutting down already: the hook restores
                }
                out.write('\n');
                out.flush();
            }
        } catch (IOException e) {
            throw new UserException(ExitCodes.FAILURE, "cannot ask for the password on " + tty + ": " + e.getMessage(), e);
        }
    }

    /** One line, UTF-8, without its end; the bytes read are wiped. */
    private static char[] line(InputStream in, Path tty) throws IOException {
        byte[] buf = new byte[MAX_BYTES];
        int n = 0;
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new UserException(ExitCodes.BAD_CREDENTIALS, "no password given (end of input on " + tty + ")");
                }
                if (b == '\n' || b == '\r') {
                    break;
                }
                if (n == MAX_BYTES) {
                    throw new UserException(ExitCodes.BAD_CREDENTIALS, "the password typed is longer than "
                            + MAX_BYTES + " bytes");
                }
                buf[n++] = (byte) b;
            }
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(buf, 0, n));
            char[] password = Arrays.copyOfRange(chars.array(), chars.position(), chars.limit());
            Arrays.fill(chars.array(), '\0');
            return password;
        } catch (CharacterCodingException e) {
            throw new UserException(ExitCodes.BAD_CREDENTIALS, "the password typed is not UTF-8");
        } finally {
            Arrays.fill(buf, (byte) 0);
        }
    }

    /** Runs stty on the terminal; its standard output, or null when it failed. */
    private static String stty(Path tty, String argument) {
        try {
            Process p = new ProcessBuilder("stty", argument).redirectInput(tty.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? new String(output, StandardCharsets.US_ASCII) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
