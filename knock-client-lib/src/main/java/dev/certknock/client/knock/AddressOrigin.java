package dev.certknock.client.knock;

/** Where the address a knock declares came from. */
public enum AddressOrigin {
    /** The caller gave it ({@link KnockOptions#withDeclaredAddress}). */
    GIVEN,
    /** Learned from an earlier reply of this server for this route ({@link ObservedAddressCache}). */
    CACHED,
    /** The local address of the route to the server (no NAT, or not known yet). */
    ROUTE,
    /** Learned from this knock's reply: the server saw it from another address, and the knock was sent again. */
    LEARNED,
    /** Nothing declared (knock v1). */
    NONE
}
