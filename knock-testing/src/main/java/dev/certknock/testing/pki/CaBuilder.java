package dev.certknock.testing.pki;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * Builder for a root or intermediate CA. Defaults: P-256 key, basicConstraints cA=true (critical),
 * keyCertSign and cRLSign, valid from an hour ago for ten years.
 */
public final class CaBuilder {

    private final CertificateBuilder certificate;
    private final TestCa parent;
    private final Clock clock;

    CaBuilder(String subject, TestCa parent, Clock clock) {
        this.parent = parent;
        this.clock = clock;
        this.certificate = new CertificateBuilder(subject, parent, clock)
                .basicConstraints(true, null)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                .validFor(Duration.ofDays(3650));
    }

    public CaBuilder keyType(KeyType type) {
        certificate.keyType(type);
        return this;
    }

    public CaBuilder pathLength(int pathLength) {
        certificate.basicConstraints(true, pathLength);
        return this;
    }

    /** A "CA" whose certificate says cA=false: it must not be accepted as an issuer. */
    public CaBuilder notACa() {
        certificate.basicConstraints(false, null);
        return this;
    }

    /** A "CA" without a basicConstraints extension at all. */
    public CaBuilder withoutBasicConstraints() {
        certificate.basicConstraintsAbsent();
        return this;
    }

    public CaBuilder keyUsage(Integer bits) {
        certificate.keyUsage(bits);
        return this;
    }

    public CaBuilder validity(Instant notBefore, Instant notAfter) {
        certificate.validity(notBefore, notAfter);
        return this;
    }

    public CaBuilder expired() {
        certificate.expired();
        return this;
    }

    public CaBuilder crlDistributionPoint(String url) {
        certificate.crlDistributionPoint(url);
        return this;
    }

    /** Adds an extension, e.g. the certknock grants extension as a CA's bound. */
    public CaBuilder extension(String oid, boolean critical, byte[] derValue) {
        certificate.extension(oid, critical, derValue);
        return this;
    }

    public TestCa build() {
        return new TestCa(certificate.build(), parent, clock);
    }
}
