package dev.certknock.ca.revoke;

import dev.certknock.ca.CaException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.x509.CRLReason;

/** The RFC 5280 revocation reasons knock-ca records (certificateHold is left out: a revocation here is final). */
public enum RevocationReason {
    UNSPECIFIED("unspecified", CRLReason.unspecified),
    KEY_COMPROMISE("keyCompromise", CRLReason.keyCompromise),
    CA_COMPROMISE("cACompromise", CRLReason.cACompromise),
    AFFILIATION_CHANGED("affiliationChanged", CRLReason.affiliationChanged),
    SUPERSEDED("superseded", CRLReason.superseded),
    CESSATION_OF_OPERATION("cessationOfOperation", CRLReason.cessationOfOperation),
    PRIVILEGE_WITHDRAWN("privilegeWithdrawn", CRLReason.privilegeWithdrawn);

    private final String rfcName;
    private final int code;

    RevocationReason(String rfcName, int code) {
        this.rfcName = rfcName;
        this.code = code;
    }

    /** The RFC 5280 name, as openssl prints it in lower camel case. */
    public String rfcName() {
        return rfcName;
    }

    public int code() {
        return code;
    }

    /** Parses {@code keyCompromise}, {@code key-compromise} or {@code KEY_COMPROMISE}. */
    public static RevocationReason parse(String text) {
        String t = text.trim().replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
        for (RevocationReason r : values()) {
            if (r.rfcName.toLowerCase(Locale.ROOT).equals(t)) {
                return r;
            }
        }
        throw CaException.badInput("unknown revocation reason '" + text + "': use one of "
                + Arrays.stream(values()).map(RevocationReason::rfcName).collect(Collectors.joining(", ")));
    }

    /** The reason for an RFC 5280 code, or null when knock-ca does not use it. */
    public static RevocationReason ofCode(int code) {
        for (RevocationReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return null;
    }
}
