package dev.certknock.ca.inspect;

import dev.certknock.ca.CaException;
import dev.certknock.ca.inspect.Inspection.BundleEntry;
import dev.certknock.ca.inspect.Inspection.BundleInfo;
import dev.certknock.ca.inspect.Inspection.CertificateInfo;
import dev.certknock.ca.inspect.Inspection.CertificateList;
import dev.certknock.ca.inspect.Inspection.CrlInfo;
import dev.certknock.ca.inspect.Inspection.GrantInfo;
import dev.certknock.ca.inspect.Inspection.RevokedInfo;
import dev.certknock.ca.pki.Bundles;
import dev.certknock.ca.pki.KeyType;
import dev.certknock.ca.pki.PemFiles;
import dev.certknock.ca.pki.Pki;
import dev.certknock.protocol.grant.CertknockGrants;
import dev.certknock.protocol.grant.CertknockOids;
import dev.certknock.protocol.grant.GrantsExtension;
import dev.certknock.protocol.grant.GrantsFormatException;
import dev.certknock.protocol.knock.ServerPublicKey;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.pkcs.Pfx;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Reads a certificate (PEM, one or several, or DER), a CRL (PEM or DER) or a PKCS#12 bundle, whoever made
 * it, and describes it, including certknock's grants extension and extended key usages.
 */
public final class InspectService {

    private static final Map<String, String> EKU_NAMES = Map.of(
            CertknockOids.KP_CLIENT.getId(), "certknockClient",
            CertknockOids.KP_SERVER.getId(), "certknockServer",
            "1.3.6.1.5.5.7.3.1", "serverAuth",
            "1.3.6.1.5.5.7.3.2", "clientAuth",
            "1.3.6.1.5.5.7.3.4", "emailProtection",
            "1.3.6.1.5.5.7.3.3", "codeSigning",
            "1.3.6.1.5.5.7.3.9", "OCSPSigning");
    private static final String[] KEY_USAGES = {"digitalSignature", "nonRepudiation", "keyEncipherment",
        "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"};
    private static final String[] REASONS = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
        "superseded", "cessationOfOperation", "certificateHold", "unused", "removeFromCRL", "privilegeWithdrawn",
        "aACompromise"};

    /**
     * Describes the file. {@code password} is asked only for a PKCS#12 bundle; it may return null when no
     * password is available, which is then refused with a message.
     */
    public Inspection inspect(Path file, Supplier<char[]> password) {
        byte[] content = PemFiles.read(file);
        if (PemFiles.isPem(content)) {
            List<PemObject> objects = PemFiles.pemObjects(content, file);
            if (objects.isEmpty()) {
                throw CaException.badInput(file + " holds no PEM block");
            }
            String first = objects.get(0).getType();
            if (first.equals("CERTIFICATE")) {
                List<CertificateInfo> certs = new ArrayList<>();
                for (PemObject o : objects) {
                    if (o.getType().equals("CERTIFICATE")) {
                        certs.add(describe(Pki.certificate(o.getContent())));
                    }
                }
                return certs.size() == 1 ? certs.get(0) : new CertificateList("certificates", certs);
            }
            if (first.equals("X509 CRL")) {
                return describe(crl(objects.get(0).getContent(), file));
            }
            throw CaException.badInput(file + " holds a PEM '" + first
                    + "' block: inspect reads certificates, CRLs and PKCS#12 bundles");
        }
        ASN1Primitive der;
        try {
            der = ASN1Primitive.fromByteArray(content);
        } catch (Exception e) {
            throw CaException.badInput(file + " is neither PEM nor DER: inspect reads certificates, CRLs and PKCS#12 bundles");
        }
        if (isA(() -> org.bouncycastle.asn1.x509.Certificate.getInstance(der))) {
            return describe(Pki.certificate(content));
        }
        if (isA(() -> org.bouncycastle.asn1.x509.CertificateList.getInstance(der))) {
            return describe(crl(content, file));
        }
        if (isA(() -> Pfx.getInstance(der))) {
            char[] pw = password.get();
            if (pw == null) {
                throw new CaException(CaException.Kind.BAD_CREDENTIALS, file
                        + " is a PKCS#12 bundle: give its password with --password-file or --password-env");
            }
            return describe(Bundles.read(content, pw, file), pw, file);
        }
        throw CaException.badInput(file + " is DER but not a certificate, CRL or PKCS#12 bundle");
    }

    /** Describes one certificate. */
    public static CertificateInfo describe(X509Certificate c) {
        List<String> eku = new ArrayList<>();
        List<String> dns = new ArrayList<>();
        try {
            if (c.getExtendedKeyUsage() != null) {
                c.getExtendedKeyUsage().forEach(oid -> eku.add(EKU_NAMES.getOrDefault(oid, oid)));
            }
            if (c.getSubjectAlternativeNames() != null) {
                for (List<?> san : c.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(GeneralName.dNSName).equals(san.get(0))) {
                        dns.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw CaException.badInput("the certificate " + c.getSubjectX500Principal().getName() + " has a malformed extension: " + e.getMessage());
        }
        List<String> usage = new ArrayList<>();
        boolean[] bits = c.getKeyUsage();
        if (bits != null) {
            for (int i = 0; i < bits.length && i < KEY_USAGES.length; i++) {
                if (bits[i]) {
                    usage.add(KEY_USAGES[i]);
                }
            }
        }
        List<GrantInfo> grants = List.of();
        Integer maxOpen = null;
        List<String> servers = List.of();
        List<String> sources = List.of();
        Boolean critical = null;
        String grantsError = null;
        try {
            var found = GrantsExtension.fromCertificate(c);
            if (found.isPresent()) {
                CertknockGrants g = found.get();
                grants = g.grants().stream().map(p -> new GrantInfo(p.protocol().label(), p.firstPort(), p.lastPort())).toList();
                maxOpen = g.maxOpenSeconds().isPresent() ? g.maxOpenSeconds().getAsInt() : null;
                servers = g.servers();
                sources = g.sources().stream().map(Object::toString).toList();
                critical = GrantsExtension.isCritical(c);
            }
        } catch (GrantsFormatException e) {
            grantsError = e.getMessage();
            critical = GrantsExtension.isCritical(c);
        }
        String knockKeyId = null;
        if (eku.contains("certknockServer")) {
            try {
                knockKeyId = ServerPublicKey.fromCertificate(c).keyIdHex();
            } catch (IllegalArgumentException e) {
                knockKeyId = null;
            }
        }
        int pathLen = c.getBasicConstraints();
        byte[] encoded;
        try {
            encoded = c.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        return new CertificateInfo("certificate", c.getSubjectX500Principal().getName(), c.getIssuerX500Principal().getName(),
                Pki.serialHex(c.getSerialNumber()), c.getNotBefore().toInstant().toString(),
                c.getNotAfter().toInstant().toString(), KeyType.describe(c.getPublicKey()), pathLen >= 0,
                pathLen >= 0 && pathLen != Integer.MAX_VALUE ? pathLen : null, usage, eku, dns, distributionPoints(c),
                grants, critical, maxOpen, servers, sources, grantsError, knockKeyId, subjectKeyId(c), authorityKeyId(c),
                Pki.fingerprint(encoded));
    }

    /** Describes a CRL (its signature is not checked here: that needs the issuer's certificate). */
    public static CrlInfo describe(X509CRL crl) {
        List<RevokedInfo> revoked = new ArrayList<>();
        if (crl.getRevokedCertificates() != null) {
            for (X509CRLEntry e : crl.getRevokedCertificates()) {
                String reason = e.getRevocationReason() == null ? null : reasonName(e.getRevocationReason().ordinal());
                revoked.add(new RevokedInfo(Pki.serialHex(e.getSerialNumber()), e.getRevocationDate().toInstant().toString(),
                        reason));
            }
        }
        revoked.sort(java.util.Comparator.comparing(RevokedInfo::revocationDate).thenComparing(RevokedInfo::serial));
        Long number = null;
        byte[] n = crl.getExtensionValue(Extension.cRLNumber.getId());
        if (n != null) {
            number = ASN1Integer.getInstance(ASN1OctetString.getInstance(n).getOctets()).getValue().longValueExact();
        }
        String aki = null;
        byte[] a = crl.getExtensionValue(Extension.authorityKeyIdentifier.getId());
        if (a != null) {
            aki = hex(AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(a).getOctets()).getKeyIdentifierOctets());
        }
        return new CrlInfo("crl", crl.getIssuerX500Principal().getName(), number, crl.getThisUpdate().toInstant().toString(),
                crl.getNextUpdate() == null ? null : crl.getNextUpdate().toInstant().toString(), crl.getSigAlgName(), aki,
                revoked);
    }

    private static BundleInfo describe(KeyStore ks, char[] password, Path file) {
        List<BundleEntry> entries = new ArrayList<>();
        try {
            for (String alias : Collections.list(ks.aliases())) {
                boolean hasKey = ks.isKeyEntry(alias);
                if (hasKey) {
                    Bundles.key(ks, alias, password, file);
                }
                Certificate[] chain = hasKey ? ks.getCertificateChain(alias) : new Certificate[] {ks.getCertificate(alias)};
                List<CertificateInfo> certs = new ArrayList<>();
                if (chain != null) {
                    for (Certificate c : chain) {
                        if (c instanceof X509Certificate x) {
                            certs.add(describe(x));
                        }
                    }
                }
                entries.add(new BundleEntry(alias, hasKey, certs));
            }
        } catch (GeneralSecurityException e) {
            throw CaException.badInput("cannot read the entries of " + file + ": " + e.getMessage());
        }
        return new BundleInfo("pkcs12", entries);
    }

    private static X509CRL crl(byte[] der, Path file) {
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            throw CaException.badInput(file + " is not a readable CRL: " + e.getMessage());
        }
    }

    static String reasonName(int code) {
        return code >= 0 && code < REASONS.length ? REASONS[code] : "code " + code;
    }

    private static List<String> distributionPoints(X509Certificate c) {
        byte[] v = c.getExtensionValue(Extension.cRLDistributionPoints.getId());
        if (v == null) {
            return List.of();
        }
        List<String> urls = new ArrayList<>();
        for (DistributionPoint dp : CRLDistPoint.getInstance(ASN1OctetString.getInstance(v).getOctets()).getDistributionPoints()) {
            DistributionPointName name = dp.getDistributionPoint();
            if (name != null && name.getType() == DistributionPointName.FULL_NAME) {
                for (GeneralName g : GeneralNames.getInstance(name.getName()).getNames()) {
                    urls.add(g.getName().toString());
                }
            }
        }
        return urls;
    }

    private static String subjectKeyId(X509Certificate c) {
        byte[] v = c.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        return v == null ? null : hex(SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(v).getOctets()).getKeyIdentifier());
    }

    private static String authorityKeyId(X509Certificate c) {
        byte[] v = c.getExtensionValue(Extension.authorityKeyIdentifier.getId());
        return v == null ? null : hex(AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(v).getOctets()).getKeyIdentifierOctets());
    }

    private static String hex(byte[] b) {
        return b == null ? null : HexFormat.ofDelimiter(":").withUpperCase().formatHex(b);
    }

    private static boolean isA(Runnable parse) {
        try {
            parse.run();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
