package dev.certknock.ca.store;

/**
 * What {@code init} fixed for a CA, stored in {@code ca.json}.
 *
 * @param name the CA's common name
 * @param keyType the CA key type label ({@code p256} or {@code ed25519})
 * @param crlUrl the CRL distribution point written into every certificate this CA issues
 * @param crlDays days from a CRL's thisUpdate to its nextUpdate
 * @param publishDir where {@code crl} writes the CRL unless told otherwise (relative to the CA directory)
 * @param parent the directory of the CA that signed this one, or null for a root
 */
public record CaSettings(int formatVersion, String name, String keyType, String crlUrl, int crlDays, String publishDir,
        String parent) {

    public static final int FORMAT_VERSION = 1;

    /** The CRL file name: the last segment of the distribution URL's path. */
    public String crlFileName() {
        String path = java.net.URI.create(crlUrl).getPath();
        String last = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        return last.isEmpty() ? "ca.crl" : last;
    }
}
