/**
 * Knocking: {@link dev.certknock.client.knock.KnockClient} validates a request against the client certificate
 * and the server certificate, seals it ({@code knock-protocol}, v2 unless asked for v1), sends it as one UDP
 * datagram from a fresh source port, reads the server's reply (learning the address the server sees, behind
 * NAT, and knocking again declaring it), and can confirm that a TCP port opened.
 */
package dev.certknock.client.knock;
