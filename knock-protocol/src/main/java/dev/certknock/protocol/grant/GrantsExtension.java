package dev.certknock.protocol.grant;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.ASN1InputStream;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Null;
import org.bouncycastle.asn1.ASN1Object;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1Set;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.ASN1UTF8String;
import org.bouncycastle.asn1.BERTags;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x509.Extension;

/**
 * DER codec for the id-ce-certknockGrants certificate extension ({@link CertknockOids#GRANTS_EXTENSION}):
 *
 * <pre>
 * CertknockGrants ::= SEQUENCE {
 *     grants          SEQUENCE SIZE (1..MAX) OF PortGrant,
 *     maxOpenSeconds  [0] IMPLICIT INTEGER (1..86400) OPTIONAL,
 *     servers         [1] IMPLICIT SEQUENCE SIZE (1..MAX) OF UTF8String OPTIONAL,
 *     sources         [2] IMPLICIT SEQUENCE SIZE (1..MAX) OF OCTET STRING OPTIONAL }
 * PortGrant ::= SEQUENCE {
 *     protocol   ENUMERATED { tcp(6), udp(17) },
 *     firstPort  INTEGER (1..65535),
 *     lastPort   INTEGER (1..65535) OPTIONAL }   -- absent = firstPort; present = &gt;= firstPort
 * </pre>
 *
 * <p>{@link #decode} is strict: input that is not DER, breaks the module, or breaks one of the limits below is
 * refused with a {@link GrantsFormatException}, and no other exception escapes it for any input. An accepted input
 * is exactly what {@link #encode} makes of the decoded value, with one exception the module allows: a
 * {@code lastPort} equal to its {@code firstPort} is accepted and dropped, because {@link PortGrant} cannot tell it
 * from an absent one (the encoder omits it).
 *
 * <p>Limits: at most {@value #MAX_ENCODED_LENGTH} bytes, {@value CertknockGrants#MAX_GRANTS} grants,
 * {@value CertknockGrants#MAX_SERVERS} servers of at most {@value CertknockGrants#MAX_SERVER_NAME_LENGTH}
 * characters (no control characters), {@value CertknockGrants#MAX_SOURCES} sources; nesting depth is bounded by
 * Bouncy Castle (64 levels by default, system property {@code org.bouncycastle.asn1.max_cons_depth}).
 *
 * <p>The extension is issued non-critical by default ({@link #toExtension(CertknockGrants)}): the extended key usage
 * id-kp-certknockClient already confines the certificate to certknock, and generic tools keep working
 * ({@code openssl verify} rejects a certificate with an unknown critical extension). certknock accepts it marked
 * either way; a PKIX path checker must claim the OID when it is critical.
 */
public final class GrantsExtension {

    /** Largest encoded CertknockGrants that {@link #decode} reads and {@link #encode} writes. */
    public static final int MAX_ENCODED_LENGTH = 8192;

    private static final int TAG_MAX_OPEN_SECONDS = 0;
    private static final int TAG_SERVERS = 1;
    private static final int TAG_SOURCES = 2;
    private static final String[] FIELD_NAMES = {"[0] maxOpenSeconds", "[1] servers", "[2] sources"};

    private GrantsExtension() {
    }

    /**
     * The DER encoding of {@code grants}: lastPort omitted for single ports, absent fields omitted.
     *
     * @throws IllegalArgumentException when the encoding would exceed {@value #MAX_ENCODED_LENGTH} bytes, which
     *                                  decoders refuse (only possible with many long server names)
     */
    public static byte[] encode(CertknockGrants grants) {
        Objects.requireNonNull(grants, "grants");
        byte[] der = der(toAsn1(grants, new BitSet()));
        if (der.length > MAX_ENCODED_LENGTH) {
            throw new IllegalArgumentException("the encoded grants are " + der.length + " bytes, more than the limit of "
                    + MAX_ENCODED_LENGTH + " that decoders accept: use fewer or shorter server names");
        }
        return der;
    }

    /**
     * Decodes a DER-encoded CertknockGrants (the extension value, without its OCTET STRING wrapping).
     *
     * @throws GrantsFormatException for any input that is not a valid, DER-encoded CertknockGrants within the limits;
     *                               no other exception is thrown, null input included
     */
    public static CertknockGrants decode(byte[] der) throws GrantsFormatException {
        if (der == null) {
            throw new GrantsFormatException("CertknockGrants: no value (null)");
        }
        if (der.length == 0) {
            throw new GrantsFormatException("CertknockGrants: the value is empty (0 bytes)");
        }
        if (der.length > MAX_ENCODED_LENGTH) {
            throw new GrantsFormatException("CertknockGrants: " + der.length + " bytes, more than the limit of "
                    + MAX_ENCODED_LENGTH);
        }
        ASN1Primitive root = parseDer(der, "CertknockGrants");
        try {
            return decodeRoot(root, der);
        } catch (RuntimeException e) {
            throw new GrantsFormatException("CertknockGrants: malformed: " + describe(e), e);
        }
    }

    /**
     * Reads the certknock grants extension of {@code certificate}: empty when it has none.
     *
     * @throws GrantsFormatException when the extension is present but malformed, its OCTET STRING wrapping included
     */
    public static Optional<CertknockGrants> fromCertificate(X509Certificate certificate) throws GrantsFormatException {
        Objects.requireNonNull(certificate, "certificate");
        byte[] wrapped;
        try {
            wrapped = certificate.getExtensionValue(CertknockOids.GRANTS_EXTENSION.getId());
        } catch (RuntimeException e) {
            throw new GrantsFormatException("grants extension: the certificate cannot return it: " + describe(e), e);
        }
        if (wrapped == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(decode(unwrapExtensionValue(wrapped)));
        } catch (GrantsFormatException e) {
            throw new GrantsFormatException("grants extension: " + e.getMessage(), e);
        }
    }

    /** True when {@code certificate} marks the certknock grants extension critical (false when it has none). */
    public static boolean isCritical(X509Certificate certificate) {
        Objects.requireNonNull(certificate, "certificate");
        Set<String> critical = certificate.getCriticalExtensionOIDs();
        return critical != null && critical.contains(CertknockOids.GRANTS_EXTENSION.getId());
    }

    /**
     * The extension for a certificate issuer, non-critical: the EKU id-kp-certknockClient already confines the
     * certificate to certknock, and generic tools such as {@code openssl verify} reject unknown critical extensions.
     */
    public static Extension toExtension(CertknockGrants grants) {
        return toExtension(grants, false);
    }

    /** The extension for a certificate issuer, marked critical or not. Prefer {@link #toExtension(CertknockGrants)}. */
    public static Extension toExtension(CertknockGrants grants, boolean critical) {
        return new Extension(CertknockOids.GRANTS_EXTENSION, critical, new DEROctetString(encode(grants)));
    }

    /**
     * Strictly unwraps what {@link X509Certificate#getExtensionValue} returns: exactly one DER OCTET STRING, nothing
     * after it.
     */
    static byte[] unwrapExtensionValue(byte[] wrapped) throws GrantsFormatException {
        if (wrapped.length == 0) {
            throw new GrantsFormatException("extension value: empty, expected the OCTET STRING that wraps it");
        }
        // 4 bytes: the largest OCTET STRING header for a value of MAX_ENCODED_LENGTH bytes.
        if (wrapped.length > MAX_ENCODED_LENGTH + 4) {
            throw new GrantsFormatException("extension value: " + wrapped.length + " bytes, more than the limit of "
                    + MAX_ENCODED_LENGTH);
        }
        ASN1Primitive outer = parseDer(wrapped, "extension value");
        if (!(outer instanceof ASN1OctetString)) {
            throw new GrantsFormatException("extension value: expected the OCTET STRING that wraps it, found "
                    + describe(outer));
        }
        return ((ASN1OctetString) outer).getOctets();
    }

    private static ASN1Primitive toAsn1(CertknockGrants value, BitSet explicitLastPort) {
        ASN1EncodableVector grantList = new ASN1EncodableVector(value.grants().size());
        for (int i = 0; i < value.grants().size(); i++) {
            PortGrant grant = value.grants().get(i);
            ASN1EncodableVector fields = new ASN1EncodableVector(3);
            fields.add(new ASN1Enumerated(grant.protocol().number()));
            fields.add(new ASN1Integer(grant.firstPort()));
            if (!grant.isSinglePort() || explicitLastPort.get(i)) {
                fields.add(new ASN1Integer(grant.lastPort()));
            }
            grantList.add(new DERSequence(fields));
        }
        ASN1EncodableVector top = new ASN1EncodableVector(4);
        top.add(new DERSequence(grantList));
        if (value.maxOpenSeconds().isPresent()) {
            top.add(new DERTaggedObject(false, TAG_MAX_OPEN_SECONDS, new ASN1Integer(value.maxOpenSeconds().getAsInt())));
        }
        if (!value.servers().isEmpty()) {
            ASN1EncodableVector names = new ASN1EncodableVector(value.servers().size());
            for (String server : value.servers()) {
                names.add(new DERUTF8String(server));
            }
            top.add(new DERTaggedObject(false, TAG_SERVERS, new DERSequence(names)));
        }
        if (!value.sources().isEmpty()) {
            ASN1EncodableVector prefixes = new ASN1EncodableVector(value.sources().size());
            for (SourcePrefix source : value.sources()) {
                prefixes.add(new DEROctetString(source.encodedAddressAndMask()));
            }
            top.add(new DERTaggedObject(false, TAG_SOURCES, new DERSequence(prefixes)));
        }
        return new DERSequence(top);
    }

    private static CertknockGrants decodeRoot(ASN1Primitive root, byte[] der) throws GrantsFormatException {
        if (!(root instanceof ASN1Sequence)) {
            throw new GrantsFormatException("CertknockGrants: expected a SEQUENCE, found " + describe(root));
        }
        ASN1Sequence top = (ASN1Sequence) root;
        if (top.size() == 0) {
            throw new GrantsFormatException("CertknockGrants: the SEQUENCE is empty: the grants field is required");
        }
        ASN1Encodable first = top.getObjectAt(0);
        if (!(first instanceof ASN1Sequence)) {
            throw new GrantsFormatException("grants: expected the SEQUENCE OF PortGrant as the first field, found "
                    + describe(first));
        }
        BitSet explicitLastPort = new BitSet();
        List<PortGrant> grants = decodeGrants((ASN1Sequence) first, explicitLastPort);

        OptionalInt maxOpenSeconds = OptionalInt.empty();
        List<String> servers = List.of();
        List<SourcePrefix> sources = List.of();
        int previousTag = -1;
        for (int i = 1; i < top.size(); i++) {
            ASN1Encodable field = top.getObjectAt(i);
            String where = "CertknockGrants field " + (i + 1);
            if (!(field instanceof ASN1TaggedObject)
                    || ((ASN1TaggedObject) field).getTagClass() != BERTags.CONTEXT_SPECIFIC) {
                throw new GrantsFormatException(where + ": expected [0] maxOpenSeconds, [1] servers or [2] sources, found "
                        + describe(field));
            }
            ASN1TaggedObject tagged = (ASN1TaggedObject) field;
            int tag = tagged.getTagNo();
            if (tag > TAG_SOURCES) {
                throw new GrantsFormatException(where + ": unknown field [" + tag
                        + "]: CertknockGrants has only [0] maxOpenSeconds, [1] servers and [2] sources");
            }
            if (tag == previousTag) {
                throw new GrantsFormatException(where + ": " + FIELD_NAMES[tag] + " appears a second time");
            }
            if (tag < previousTag) {
                throw new GrantsFormatException(where + ": " + FIELD_NAMES[tag] + " comes after "
                        + FIELD_NAMES[previousTag] + ": the fields must be in the order [0], [1], [2]");
            }
            previousTag = tag;
            switch (tag) {
                case TAG_MAX_OPEN_SECONDS:
                    maxOpenSeconds = OptionalInt.of(decodeMaxOpenSeconds(tagged));
                    break;
                case TAG_SERVERS:
                    servers = decodeServers(tagged);
                    break;
                default:
                    sources = decodeSources(tagged);
                    break;
            }
        }

        CertknockGrants value;
        try {
            value = new CertknockGrants(grants, maxOpenSeconds, servers, sources);
        } catch (IllegalArgumentException e) {
            throw new GrantsFormatException(e.getMessage(), e);
        }
        // Belt and braces: whatever Bouncy Castle tolerated (for instance with org.bouncycastle.asn1.allow_unsafe_integer
        // set), an accepted input must be exactly the DER this codec writes for the value.
        byte[] canonical = der(toAsn1(value, explicitLastPort));
        if (!Arrays.equals(canonical, der)) {
            throw new GrantsFormatException("CertknockGrants: not DER: byte offset " + firstDifference(canonical, der)
                    + " differs from the DER encoding of the same value: re-encode it with a DER encoder");
        }
        return value;
    }

    private static List<PortGrant> decodeGrants(ASN1Sequence list, BitSet explicitLastPort)
            throws GrantsFormatException {
        if (list.size() == 0) {
            throw new GrantsFormatException("grants: the list is empty: a certificate must grant at least one port");
        }
        if (list.size() > CertknockGrants.MAX_GRANTS) {
            throw new GrantsFormatException("grants: " + list.size() + " entries, more than the limit of "
                    + CertknockGrants.MAX_GRANTS);
        }
        List<PortGrant> grants = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String where = "grant " + (i + 1);
            ASN1Encodable element = list.getObjectAt(i);
            if (!(element instanceof ASN1Sequence)) {
                throw new GrantsFormatException(where + ": expected a SEQUENCE (PortGrant), found " + describe(element));
            }
            ASN1Sequence fields = (ASN1Sequence) element;
            if (fields.size() < 2 || fields.size() > 3) {
                throw new GrantsFormatException(where + ": expected 2 or 3 fields (protocol, firstPort, optional lastPort), found "
                        + fields.size());
            }
            ASN1Encodable protocolField = fields.getObjectAt(0);
            if (!(protocolField instanceof ASN1Enumerated)) {
                throw new GrantsFormatException(where + ": protocol: expected ENUMERATED, found " + describe(protocolField));
            }
            BigInteger protocolNumber = ((ASN1Enumerated) protocolField).getValue();
            Protocol protocol = protocolNumber.bitLength() < 32 ? Protocol.ofNumber(protocolNumber.longValue()) : null;
            if (protocol == null) {
                throw new GrantsFormatException(where + ": unknown protocol " + numberText(protocolNumber)
                        + ": only tcp(6) and udp(17) are defined");
            }
            int firstPort = port(fields.getObjectAt(1), where, "firstPort");
            int lastPort = firstPort;
            if (fields.size() == 3) {
                lastPort = port(fields.getObjectAt(2), where, "lastPort");
                if (lastPort < firstPort) {
                    throw new GrantsFormatException(where + ": lastPort " + lastPort + " is lower than firstPort "
                            + firstPort);
                }
                explicitLastPort.set(i);
            }
            grants.add(new PortGrant(protocol, firstPort, lastPort));
        }
        return grants;
    }

    private static int port(ASN1Encodable field, String where, String name) throws GrantsFormatException {
        if (!(field instanceof ASN1Integer)) {
            throw new GrantsFormatException(where + ": " + name + ": expected INTEGER, found " + describe(field));
        }
        BigInteger value = ((ASN1Integer) field).getValue();
        if (value.compareTo(BigInteger.valueOf(PortGrant.MIN_PORT)) < 0
                || value.compareTo(BigInteger.valueOf(PortGrant.MAX_PORT)) > 0) {
            throw new GrantsFormatException(where + ": " + name + " " + numberText(value) + " is outside "
                    + PortGrant.MIN_PORT + "-" + PortGrant.MAX_PORT);
        }
        return value.intValue();
    }

    private static int decodeMaxOpenSeconds(ASN1TaggedObject tagged) throws GrantsFormatException {
        String where = FIELD_NAMES[TAG_MAX_OPEN_SECONDS];
        if (isConstructed(tagged)) {
            throw new GrantsFormatException(where + ": expected a primitive INTEGER with an implicit tag, found a "
                    + "constructed encoding (an explicit tag?)");
        }
        BigInteger value;
        try {
            value = ASN1Integer.getInstance(tagged, false).getValue();
        } catch (RuntimeException e) {
            throw new GrantsFormatException(where + ": not an INTEGER: " + describe(e), e);
        }
        String problem = value.bitLength() < 63 ? CertknockGrants.maxOpenSecondsProblem(value.longValue())
                : numberText(value) + " is outside " + CertknockGrants.MAX_OPEN_SECONDS_RANGE;
        if (problem != null) {
            throw new GrantsFormatException("maxOpenSeconds: " + problem);
        }
        return value.intValue();
    }

    private static List<String> decodeServers(ASN1TaggedObject tagged) throws GrantsFormatException {
        ASN1Sequence list = implicitSequence(tagged, TAG_SERVERS, "UTF8String", "any server",
                CertknockGrants.MAX_SERVERS);
        List<String> servers = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String where = "server " + (i + 1);
            ASN1Encodable element = list.getObjectAt(i);
            if (!(element instanceof ASN1UTF8String)) {
                throw new GrantsFormatException(where + ": expected UTF8String, found " + describe(element));
            }
            String name = strictUtf8(contentOctets((ASN1UTF8String) element), where);
            String problem = CertknockGrants.serverNameProblem(name);
            if (problem != null) {
                throw new GrantsFormatException(where + ": " + problem);
            }
            servers.add(name);
        }
        return servers;
    }

    private static List<SourcePrefix> decodeSources(ASN1TaggedObject tagged) throws GrantsFormatException {
        ASN1Sequence list = implicitSequence(tagged, TAG_SOURCES, "OCTET STRING", "any source",
                CertknockGrants.MAX_SOURCES);
        List<SourcePrefix> sources = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String where = "source " + (i + 1);
            ASN1Encodable element = list.getObjectAt(i);
            if (!(element instanceof ASN1OctetString)) {
                throw new GrantsFormatException(where + ": expected OCTET STRING, found " + describe(element));
            }
            try {
                sources.add(SourcePrefix.decode(((ASN1OctetString) element).getOctets()));
            } catch (IllegalArgumentException e) {
                throw new GrantsFormatException(where + ": " + e.getMessage(), e);
            }
        }
        return sources;
    }

    private static ASN1Sequence implicitSequence(ASN1TaggedObject tagged, int tag, String elementType,
                                                 String absentMeaning, int max) throws GrantsFormatException {
        String where = FIELD_NAMES[tag];
        if (!isConstructed(tagged)) {
            throw new GrantsFormatException(where + ": expected a SEQUENCE OF " + elementType
                    + " with an implicit tag (constructed), found a primitive encoding");
        }
        ASN1Sequence list;
        try {
            list = ASN1Sequence.getInstance(tagged, false);
        } catch (RuntimeException e) {
            throw new GrantsFormatException(where + ": not a SEQUENCE OF " + elementType + ": " + describe(e), e);
        }
        if (list.size() == 0) {
            throw new GrantsFormatException(where + ": the list is empty: omit the field to allow " + absentMeaning);
        }
        if (list.size() > max) {
            throw new GrantsFormatException(where + ": " + list.size() + " entries, more than the limit of " + max);
        }
        return list;
    }

    /** Parses exactly one DER object covering all of {@code der}. */
    private static ASN1Primitive parseDer(byte[] der, String what) throws GrantsFormatException {
        ByteArrayInputStream bytes = new ByteArrayInputStream(der);
        ASN1Primitive parsed;
        // The limit makes Bouncy Castle refuse any length beyond the input before it allocates for it.
        try (ASN1InputStream in = new ASN1InputStream(bytes, der.length)) {
            parsed = in.readObject();
        } catch (IOException | RuntimeException e) {
            throw new GrantsFormatException(what + ": not valid DER: " + describe(e), e);
        }
        if (parsed == null) {
            throw new GrantsFormatException(what + ": no ASN.1 object in the input");
        }
        int trailing = bytes.available();
        if (trailing > 0) {
            throw new GrantsFormatException(what + ": " + trailing + " trailing byte" + (trailing == 1 ? "" : "s")
                    + " after the end of the encoding at byte offset " + (der.length - trailing));
        }
        byte[] reencoded;
        try {
            reencoded = parsed.getEncoded(ASN1Encoding.DER);
        } catch (IOException | RuntimeException e) {
            throw new GrantsFormatException(what + ": not valid DER: " + describe(e), e);
        }
        if (!Arrays.equals(reencoded, der)) {
            throw new GrantsFormatException(what + ": not DER: byte offset " + firstDifference(reencoded, der)
                    + " differs from the DER form (a non-minimal or indefinite length, a constructed string, or similar):"
                    + " re-encode it with a DER encoder");
        }
        return parsed;
    }

    private static boolean isConstructed(ASN1TaggedObject tagged) {
        // The whole input was checked to be DER, so the re-encoded identifier octet is the one in the input.
        return (der(tagged)[0] & BERTags.CONSTRUCTED) != 0;
    }

    private static byte[] contentOctets(ASN1Primitive primitive) {
        byte[] encoded = der(primitive);
        int lengthOctet = encoded[1] & 0xff;
        int header = lengthOctet < 0x80 ? 2 : 2 + (lengthOctet & 0x7f);
        return Arrays.copyOfRange(encoded, header, encoded.length);
    }

    private static String strictUtf8(byte[] octets, String where) throws GrantsFormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(octets))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new GrantsFormatException(where + ": the UTF8String is not valid UTF-8", e);
        }
    }

    private static byte[] der(ASN1Object object) {
        try {
            return object.getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            // Encoding in memory writes to a ByteArrayOutputStream, which does not fail.
            throw new IllegalStateException("DER encoding in memory failed", e);
        }
    }

    private static int firstDifference(byte[] a, byte[] b) {
        int mismatch = Arrays.mismatch(a, b);
        return mismatch < 0 ? 0 : mismatch;
    }

    private static String numberText(BigInteger value) {
        return value.bitLength() <= 64 ? value.toString() : "(a " + value.bitLength() + "-bit number)";
    }

    /** The message of {@code e} and of its causes, as Bouncy Castle wraps the telling one ("malformed integer"). */
    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder();
        int depth = 0;
        for (Throwable t = e; t != null && depth < 4; t = t.getCause(), depth++) {
            String message = t.getMessage();
            if (message == null || message.isBlank()) {
                message = t.getClass().getSimpleName();
            }
            if (text.indexOf(message) >= 0) {
                continue;
            }
            text.append(text.length() == 0 ? message : " (" + message + ")");
        }
        return text.toString();
    }

    /** The ASN.1 type of {@code element} in error messages: {@code INTEGER}, {@code [3]}, {@code [APPLICATION 1]}. */
    static String describe(ASN1Encodable element) {
        if (element instanceof ASN1TaggedObject) {
            ASN1TaggedObject tagged = (ASN1TaggedObject) element;
            switch (tagged.getTagClass()) {
                case BERTags.CONTEXT_SPECIFIC:
                    return "[" + tagged.getTagNo() + "]";
                case BERTags.APPLICATION:
                    return "[APPLICATION " + tagged.getTagNo() + "]";
                case BERTags.PRIVATE:
                    return "[PRIVATE " + tagged.getTagNo() + "]";
                default:
                    return "[UNIVERSAL " + tagged.getTagNo() + "]";
            }
        }
        if (element instanceof ASN1Sequence) {
            return "SEQUENCE";
        }
        if (element instanceof ASN1Set) {
            return "SET";
        }
        if (element instanceof ASN1Integer) {
            return "INTEGER";
        }
        if (element instanceof ASN1Enumerated) {
            return "ENUMERATED";
        }
        if (element instanceof ASN1OctetString) {
            return "OCTET STRING";
        }
        if (element instanceof ASN1UTF8String) {
            return "UTF8String";
        }
        if (element instanceof ASN1Boolean) {
            return "BOOLEAN";
        }
        if (element instanceof ASN1Null) {
            return "NULL";
        }
        if (element instanceof ASN1ObjectIdentifier) {
            return "OBJECT IDENTIFIER";
        }
        return element.getClass().getSimpleName().replaceFirst("^(ASN1|DER|DL|BER)", "");
    }
}
