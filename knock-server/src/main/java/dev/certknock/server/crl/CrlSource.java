package dev.certknock.server.crl;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Where a CRL is fetched from: an {@code http:} or {@code https:} URL, or a {@code file:} URI. A file URI
 * is either absolute ({@code file:/var/lib/ca/crl.der}, {@code file:///var/lib/ca/crl.der}) or relative
 * to the working directory ({@code file:certificates/crl.der}).
 */
public record CrlSource(URI uri) {

    public CrlSource {
        Objects.requireNonNull(uri, "uri");
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "http", "https" -> {
                if (uri.getHost() == null || uri.getHost().isEmpty()) {
                    throw new IllegalArgumentException("CRL URL has no host: " + uri);
                }
            }
            case "file" -> {
                if (uri.isOpaque() ? uri.getSchemeSpecificPart().isEmpty() : uri.getPath() == null || uri.getPath().isEmpty()) {
                    throw new IllegalArgumentException("CRL file URI has no path: " + uri);
                }
            }
            default -> throw new IllegalArgumentException("CRL source must be an http:, https: or file: URI, not " + uri);
        }
    }

    public static CrlSource of(String uri) {
        return new CrlSource(URI.create(uri));
    }

    /** A source for a local file. */
    public static CrlSource of(Path file) {
        return new CrlSource(file.toAbsolutePath().toUri());
    }

    public boolean isFile() {
        return "file".equalsIgnoreCase(uri.getScheme());
    }

    /** The local path of a {@code file:} source; relative file URIs resolve against the working directory. */
    public Path path() {
        if (!isFile()) {
            throw new IllegalStateException("not a file source: " + uri);
        }
        return uri.isOpaque() ? Path.of(uri.getSchemeSpecificPart()) : Path.of(uri);
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
