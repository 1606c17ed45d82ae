package dev.certknock.protocol.grant;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;

/**
 * certknock's object identifiers, under an arc minted from a UUID (ITU-T X.667): no registration needed.
 * These values are fixed: changing them breaks every certificate ever issued.
 */
public final class CertknockOids {

    /** {@code 2.25.145796974053061458932107102370891577014}: the certknock arc. */
    public static final ASN1ObjectIdentifier ARC = new ASN1ObjectIdentifier("2.25.145796974053061458932107102370891577014");

    /** {@code ARC.1} id-ce-certknockGrants: the certificate extension that carries port grants. */
    public static final ASN1ObjectIdentifier GRANTS_EXTENSION = ARC.branch("1");

    /** {@code ARC.2} id-kp-certknockClient: extended key usage that a client certificate must have. */
    public static final ASN1ObjectIdentifier KP_CLIENT = ARC.branch("2");

    /** {@code ARC.3} id-kp-certknockServer: extended key usage that a server certificate must have. */
    public static final ASN1ObjectIdentifier KP_SERVER = ARC.branch("3");

    private CertknockOids() {
    }
}
