/** Who knocks: {@link dev.certknock.client.identity.ClientIdentity} and where it comes from. */
package dev.certknock.client.identity;
