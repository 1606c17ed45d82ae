/**
 * The certknock client library: knock from Java code.
 *
 * <ul>
 *   <li>{@link dev.certknock.client.identity}: who knocks: a signing key, its certificate chain and the CA
 *       certificates that server certificates must chain to (a PKCS#12 bundle, a key in memory, or a
 *       {@link java.security.KeyStore} entry such as a PKCS#11 token key).</li>
 *   <li>{@link dev.certknock.client.knock}: where and what: {@code KnockClient} validates, seals and sends one
 *       UDP datagram per knock, and optionally confirms that a TCP port opened.</li>
 *   <li>{@link dev.certknock.client.proxy}: knock, wait, then relay a stream (the {@code ssh} ProxyCommand).</li>
 *   <li>{@link dev.certknock.client.CertificateFiles}: reads server and CA certificate files (PEM or DER).</li>
 * </ul>
 *
 * <p>No static state and no global {@link java.security.Security#addProvider} calls: cryptography runs
 * through Bouncy Castle's lightweight API and the JDK's own providers.
 */
package dev.certknock.client;
