package dev.certknock.ca.inspect;

import java.util.List;

/** What {@code inspect} found in a file: one of four shapes, each serialised to JSON as it is. */
public sealed interface Inspection permits Inspection.CertificateInfo, Inspection.CertificateList, Inspection.CrlInfo,
        Inspection.BundleInfo {

    /** "certificate", "certificates", "crl" or "pkcs12". */
    String type();

    /** One port grant as JSON: {@code {"protocol":"tcp","first":22,"last":22}}. */
    record GrantInfo(String protocol, int first, int last) {
    }

    /**
     * A certificate. Grants, servers and sources are empty lists (and maxOpenSeconds null) when the certificate
     * has no grants extension or leaves the field out; grantsError says why an extension present could not be read.
     */
    record CertificateInfo(String type, String subject, String issuer, String serial, String notBefore, String notAfter,
            String keyAlgorithm, boolean ca, Integer pathLength, List<String> keyUsage, List<String> eku,
            List<String> dnsNames, List<String> crlDistributionPoints, List<GrantInfo> grants, Boolean grantsCritical,
            Integer maxOpenSeconds, List<String> servers, List<String> sources, String grantsError, String knockKeyId,
            String subjectKeyId, String authorityKeyId, String sha256) implements Inspection {
    }

    /** Several certificates in one PEM file (a chain), in file order. */
    record CertificateList(String type, List<CertificateInfo> certificates) implements Inspection {
    }

    /** One revoked certificate in a CRL; reason null when the entry has no reason code. */
    record RevokedInfo(String serial, String revocationDate, String reason) {
    }

    /** A CRL. */
    record CrlInfo(String type, String issuer, Long crlNumber, String thisUpdate, String nextUpdate, String signatureAlgorithm,
            String authorityKeyId, List<RevokedInfo> revoked) implements Inspection {
    }

    /** One entry of a PKCS#12 bundle: a key with its chain, or a trusted certificate. */
    record BundleEntry(String alias, boolean hasKey, List<CertificateInfo> chain) {
    }

    /** A PKCS#12 bundle. */
    record BundleInfo(String type, List<BundleEntry> entries) implements Inspection {
    }
}
