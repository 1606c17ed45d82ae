package dev.certknock.ca.issue;

import java.nio.file.Path;

/**
 * What {@code issue-server} asks for.
 *
 * @param caDir the CA directory
 * @param caPassword the CA key password
 * @param dnsName the server's DNS name (subject CN and DNS subject alternative name)
 * @param validFor how long after issue it is valid (notBefore is backdated {@link SigningCa#BACKDATE} more)
 * @param keyType the knock key: p256 or x25519
 * @param out the PKCS#12 bundle (knock key, certificate, CA chain) for the server
 * @param certOut the certificate alone as PEM for the clients, or null for {@code out} with the extension .pem
 * @param bundlePassword the bundle's password
 * @param ipAddresses IP address literals the server is also knocked on by (IP address subject alternative names)
 */
public record ServerRequest(Path caDir, char[] caPassword, String dnsName, java.time.Duration validFor, String keyType, Path out, Path certOut,
        char[] bundlePassword, java.util.List<String> ipAddresses) {

    public ServerRequest {
        ipAddresses = ipAddresses == null ? java.util.List.of() : java.util.List.copyOf(ipAddresses);
    }
}
