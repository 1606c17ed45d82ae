package dev.certknock.server.grant;

/** Why a grant closed. */
public enum CloseReason {
    /** Its time was up. */
    EXPIRED,
    /** Its certificate, or a CA certificate of its path, was revoked. */
    REVOKED,
    /** The server stopped and emptied its grant sets ({@code firewall.onStop: flush}). */
    STOPPED;

    /** Lower case, as the audit log writes it. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
