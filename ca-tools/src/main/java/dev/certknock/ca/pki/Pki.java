package dev.certknock.ca.pki;

import dev.certknock.ca.CaException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Conversions and helpers shared by the CA features: certificates, PEM, signers, serial text. */
public final class Pki {

    /** Bouncy Castle, used by instance: knock-ca never installs it as a global provider. */
    public static final Provider PROVIDER = new BouncyCastleProvider();

    private Pki() {
    }

    /** The JDK's X509Certificate for a Bouncy Castle holder. */
    public static X509Certificate certificate(X509CertificateHolder holder) {
        try {
            return certificate(holder.getEncoded());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses one DER certificate with the JDK. */
    public static X509Certificate certificate(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            throw CaException.badInput("not an X.509 certificate: " + e.getMessage());
        }
    }

    /** The JDK's X509CRL for a Bouncy Castle holder. */
    public static X509CRL crl(X509CRLHolder holder) {
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(holder.getEncoded()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The signer for a CA key: ECDSA with SHA-256 for P-256, Ed25519 for Ed25519. */
    public static ContentSigner signer(PrivateKey key) {
        String alg = switch (key.getAlgorithm()) {
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw CaException.badInput("a " + key.getAlgorithm() + " key cannot sign certificates: use p256 or ed25519");
        };
        try {
            return new JcaContentSignerBuilder(alg).setProvider(PROVIDER).build(key);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign with " + alg, e);
        }
    }

    /**
     * The key as OpenSSL 3.0 reads it. Bouncy Castle encodes Ed25519 and X25519 private keys as PKCS#8 v2 with the
     * public key attached, which OpenSSL 3.0 refuses inside PKCS#12 bags; the JDK's key of the same bytes encodes
     * the plain v1 form. Other keys are returned as they are.
     */
    public static PrivateKey portable(PrivateKey key) {
        String alg = key.getAlgorithm();
        if (!(alg.equals("Ed25519") || alg.equals("X25519") || alg.equals("EdDSA") || alg.equals("XDH"))) {
            return key;
        }
        try {
            org.bouncycastle.asn1.pkcs.PrivateKeyInfo info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(key.getEncoded());
            org.bouncycastle.asn1.pkcs.PrivateKeyInfo v1 = new org.bouncycastle.asn1.pkcs.PrivateKeyInfo(
                    info.getPrivateKeyAlgorithm(), info.parsePrivateKey());
            String jdkAlg = info.getPrivateKeyAlgorithm().getAlgorithm()
                    .equals(org.bouncycastle.asn1.edec.EdECObjectIdentifiers.id_Ed25519) ? "Ed25519" : "X25519";
            return java.security.KeyFactory.getInstance(jdkAlg)
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(v1.getEncoded()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot re-encode the " + alg + " key", e);
        }
    }

    /** PEM text of certificates, CRLs, requests or public objects. */
    public static String pem(Object... objects) {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            for (Object o : objects) {
                pw.writeObject(o);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    /** PEM text of a list of certificates. */
    public static String pem(List<X509Certificate> certificates) {
        return pem(certificates.toArray());
    }

    /** Lower-case hex of a positive serial number, even length (e.g. "0f3a"). */
    public static String serialHex(BigInteger serial) {
        String hex = serial.toString(16);
        return (hex.length() % 2 == 1 ? "0" : "") + hex;
    }

    /** Parses a serial number written in hex, with optional colons, spaces or 0x prefix. */
    public static BigInteger parseSerial(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace(":", "").replace(" ", "");
        if (t.startsWith("0x")) {
            t = t.substring(2);
        }
        if (t.isEmpty() || !t.matches("[0-9a-f]+") || t.length() > 40) {
            throw CaException.badInput("serial '" + text + "' is not a hexadecimal serial number (as 'knock-ca list' shows it)");
        }
        return new BigInteger(t, 16);
    }

    /** SHA-256 of the DER encoding, upper-case hex with colons, as openssl prints fingerprints. */
    public static String fingerprint(byte[] der) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(der);
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The certificates in a list, as a mutable copy: for building chains. */
    public static List<X509Certificate> concat(X509Certificate first, List<X509Certificate> rest) {
        List<X509Certificate> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
