package dev.certknock.server.firewall.nftables;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.certknock.server.firewall.FirewallException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Talks to the kernel in-process through libnftables ({@code libnftables.so.1}, Debian package
 * {@code libnftables1}, installed with {@code nftables}), through JNA: no process per change. A script is
 * run with {@code nft_run_cmd_from_buffer}, which parses it and commits it as one netlink transaction, as
 * {@code nft -f -} does: all of it or none of it. Messages are buffered ({@code nft_ctx_buffer_output},
 * {@code nft_ctx_buffer_error}) and an error's text goes into the exception.
 *
 * <p>The netlink socket belongs to the network namespace of this process, so this executor cannot take a
 * command prefix such as {@code ip netns exec}; {@link #load()} is empty when the library cannot be loaded,
 * and the backend then falls back to {@link ProcessNftExecutor}.
 *
 * <p>Thread-safe: one context, used under this object's lock (libnftables contexts are not thread-safe).
 */
public final class LibNftExecutor implements NftExecutor, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LibNftExecutor.class);

    /** {@code NFT_CTX_DEFAULT}. */
    private static final int CTX_DEFAULT = 0;
    /** {@code NFT_CTX_OUTPUT_JSON} of {@code enum nft_output_flags}. */
    private static final int OUTPUT_JSON = 1 << 4;
    /** How much of an error message goes into an exception message. */
    private static final int MAX_ERROR_CHARS = 4000;

    /** The part of libnftables' API this executor uses (libnftables(3)). */
    interface LibNftables extends Library {
        Pointer nft_ctx_new(int flags);

        void nft_ctx_free(Pointer ctx);

        int nft_ctx_buffer_output(Pointer ctx);

        int nft_ctx_buffer_error(Pointer ctx);

        String nft_ctx_get_output_buffer(Pointer ctx);

        String nft_ctx_get_error_buffer(Pointer ctx);

        int nft_ctx_output_get_flags(Pointer ctx);

        void nft_ctx_output_set_flags(Pointer ctx, int flags);

        void nft_ctx_set_dry_run(Pointer ctx, boolean dry);

        int nft_run_cmd_from_buffer(Pointer ctx, String buffer);
    }

    private final LibNftables lib;
    private Pointer ctx;

    private LibNftExecutor(LibNftables lib, Pointer ctx) {
        this.lib = lib;
        this.ctx = ctx;
    }

    /**
     * The in-process executor, or empty (with the reason at DEBUG) when libnftables cannot be loaded or gives
     * no context.
     */
    public static Optional<LibNftExecutor> load() {
        LibNftables lib;
        try {
            lib = Native.load("libnftables.so.1", LibNftables.class);
        } catch (LinkageError e) { // UnsatisfiedLinkError when the library or a symbol is missing
            LOG.debug("libnftables cannot be loaded: {}", e.toString());
            return Optional.empty();
        }
        Pointer ctx = lib.nft_ctx_new(CTX_DEFAULT);
        if (ctx == null) {
            LOG.debug("libnftables gave no context (nft_ctx_new returned NULL)");
            return Optional.empty();
        }
        if (lib.nft_ctx_buffer_output(ctx) != 0 || lib.nft_ctx_buffer_error(ctx) != 0) {
            lib.nft_ctx_free(ctx);
            LOG.debug("libnftables cannot buffer its output");
            return Optional.empty();
        }
        return Optional.of(new LibNftExecutor(lib, ctx));
    }

    @Override
    public synchronized void apply(String script) throws FirewallException {
        run(script, false, false);
    }

    @Override
    public synchronized void check(String script) throws FirewallException {
        run(script, true, false);
    }

    /**
     * Runs what {@code nft ARGUMENTS} would: the options {@code -j} (JSON output) and the command words that
     * follow, for example {@code -j list table inet certknock}.
     */
    @Override
    public synchronized String query(List<String> arguments) throws FirewallException {
        boolean json = false;
        List<String> words = new ArrayList<>();
        for (String a : arguments) {
            if (a.equals("-j") || a.equals("--json")) {
                json = true;
            } else if (a.startsWith("-")) {
                throw new FirewallException("libnftables executor: nft option " + a + " is not supported", null);
            } else {
                words.add(a);
            }
        }
        return run(String.join(" ", words), false, json);
    }

    private String run(String script, boolean dryRun, boolean json) throws FirewallException {
        if (ctx == null) {
            throw new FirewallException("libnftables executor is closed", null);
        }
        int flags = lib.nft_ctx_output_get_flags(ctx);
        lib.nft_ctx_output_set_flags(ctx, json ? flags | OUTPUT_JSON : flags & ~OUTPUT_JSON);
        lib.nft_ctx_set_dry_run(ctx, dryRun);
        try {
            int status = lib.nft_run_cmd_from_buffer(ctx, script);
            String out = lib.nft_ctx_get_output_buffer(ctx);
            String err = lib.nft_ctx_get_error_buffer(ctx);
            if (status != 0) {
                String text = err == null ? "" : err.strip();
                if (text.length() > MAX_ERROR_CHARS) {
                    text = text.substring(0, MAX_ERROR_CHARS) + " [...]";
                }
                throw new FirewallException("libnftables refused the " + (dryRun ? "check of the " : "")
                        + "batch (status " + status + "): " + (text.isEmpty() ? "no error output" : text), null);
            }
            return out == null ? "" : out;
        } finally {
            lib.nft_ctx_set_dry_run(ctx, false);
        }
    }

    @Override
    public synchronized void close() {
        if (ctx != null) {
            lib.nft_ctx_free(ctx);
            ctx = null;
        }
    }

    @Override
    public String toString() {
        return "libnftables (in-process)";
    }
}
