package dev.certknock.protocol.grant;

import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERSequence;

/**
 * The property every input must have, shared by the Jazzer fuzz test and the plain mutation sweep: decode either
 * refuses it with {@link GrantsFormatException}, or returns a value that encodes back to the very same bytes. The one
 * difference allowed is the one the ASN.1 module allows: a lastPort equal to its firstPort, which the encoder omits.
 */
final class GrantsOracle {

    private GrantsOracle() {
    }

    /** Throws {@link AssertionError} when {@code input} breaks the property; any other exception escapes as-is. */
    static void check(byte[] input) throws Exception {
        CertknockGrants decoded;
        try {
            decoded = GrantsExtension.decode(input);
        } catch (GrantsFormatException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("refused without a message", e);
            }
            return;
        }
        byte[] reencoded = GrantsExtension.encode(decoded);
        if (!Arrays.equals(reencoded, input)) {
            byte[] canonical = withoutRedundantLastPorts(input);
            if (Arrays.equals(canonical, input) || !Arrays.equals(canonical, reencoded)) {
                throw new AssertionError("accepted " + Der.hex(input) + " as " + decoded + " but that encodes to "
                        + Der.hex(reencoded));
            }
        }
        CertknockGrants again = GrantsExtension.decode(reencoded);
        if (!again.equals(decoded)) {
            throw new AssertionError("decode(encode(" + decoded + ")) is " + again);
        }
    }

    /** {@code accepted} with every PortGrant's lastPort dropped where it equals firstPort, re-encoded as DER. */
    static byte[] withoutRedundantLastPorts(byte[] accepted) throws Exception {
        ASN1Sequence top = ASN1Sequence.getInstance(ASN1Primitive.fromByteArray(accepted));
        ASN1EncodableVector grants = new ASN1EncodableVector();
        for (ASN1Encodable element : ASN1Sequence.getInstance(top.getObjectAt(0))) {
            ASN1Sequence grant = ASN1Sequence.getInstance(element);
            if (grant.size() == 3 && grant.getObjectAt(1).equals(grant.getObjectAt(2))) {
                grants.add(new DERSequence(new ASN1Encodable[] {grant.getObjectAt(0), grant.getObjectAt(1)}));
            } else {
                grants.add(grant);
            }
        }
        ASN1EncodableVector fields = new ASN1EncodableVector();
        fields.add(new DERSequence(grants));
        for (int i = 1; i < top.size(); i++) {
            fields.add(top.getObjectAt(i));
        }
        return new DERSequence(fields).getEncoded(ASN1Encoding.DER);
    }
}
