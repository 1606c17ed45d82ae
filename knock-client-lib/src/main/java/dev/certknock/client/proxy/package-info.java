/**
 * Knock, wait for the port, then relay a pair of streams to it: what {@code knock ssh-proxy} does as an
 * {@code ssh} ProxyCommand.
 */
package dev.certknock.client.proxy;
