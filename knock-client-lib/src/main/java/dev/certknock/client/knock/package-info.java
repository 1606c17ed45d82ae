/**
 * Knocking: {@link dev.certknock.client.knock.KnockClient} validates a request against the client certificate
 * and the server certificate, seals it ({@code knock-protocol}), sends it as one UDP datagram from a fresh
 * source port, and can confirm that a TCP port opened.
 */
package dev.certknock.client.knock;
