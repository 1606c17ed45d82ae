package dev.certknock.client.knock;

/** Where the address a knock declares came from. */
public enum AddressOrigin {
    /** The caller gave it ({@link KnockOptions#withDeclaredAddress}). */
    GIVEN,
    /** Learned from an earlier reply of this server for this route ({@link ObservedAddressCache}). */
    CACHED,
    /** The local address of the route to the server (no NAT, or not known yet). */
    ROUTE,
    /** Learned from the reply to an earlier knock of the same exchange (a resend of {@code awaitOpen}). */
    LEARNED,
    /** Nothing declared (knock v1). */
    NONE
}
