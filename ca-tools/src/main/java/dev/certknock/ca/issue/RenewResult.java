package dev.certknock.ca.issue;

import dev.certknock.ca.store.IssuedEntry;

/**
 * A renewal: the new certificate and the one it replaces.
 *
 * @param issued the new certificate and the files written
 * @param old the old certificate's database entry, revoked (reason superseded) when {@code --revoke-old} was given
 */
public record RenewResult(IssueResult issued, IssuedEntry old) {
}
