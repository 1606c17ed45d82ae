package dev.certknock.testing.pki;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A certificate authority of the test PKI: its key, its certificate and the chain above it. Issues leaf
 * certificates, intermediates and CRLs through fluent builders, including deliberately bad ones.
 */
public final class TestCa {

    private final IssuedCertificate issued;
    private final TestCa parent;
    private final Clock clock;
    private final AtomicLong crlNumber = new AtomicLong();

    TestCa(IssuedCertificate issued, TestCa parent, Clock clock) {
        this.issued = Objects.requireNonNull(issued);
        this.parent = parent;
        this.clock = Objects.requireNonNull(clock);
    }

    /** A self-signed root CA with a P-256 key, valid from an hour ago for ten years by this clock. */
    public static TestCa root(String subject, Clock clock) {
        return rootBuilder(subject, clock).build();
    }

    /** A builder for a root CA, for other key types, validity or deliberately bad roots. */
    public static CaBuilder rootBuilder(String subject, Clock clock) {
        return new CaBuilder(subject, null, clock);
    }

    /** A builder for an intermediate CA below this one, by default with basicConstraints cA=true. */
    public CaBuilder intermediate(String subject) {
        return new CaBuilder(subject, this, clock);
    }

    /** A builder for an end-entity certificate issued by this CA. */
    public CertificateBuilder leaf(String subject) {
        return new CertificateBuilder(subject, this, clock);
    }

    /** A builder for a CRL signed by this CA; CRL numbers count up from 1 unless set. */
    public CrlBuilder crl() {
        return new CrlBuilder(this, clock, crlNumber.incrementAndGet());
    }

    public X509Certificate certificate() {
        return issued.certificate();
    }

    public KeyPair keyPair() {
        return issued.keyPair();
    }

    public PrivateKey privateKey() {
        return issued.privateKey();
    }

    public IssuedCertificate issued() {
        return issued;
    }

    /** The root of this CA's hierarchy (itself for a root). */
    public TestCa root() {
        return parent == null ? this : parent.root();
    }

    /** This CA's certificate and those above it, not including the root. Empty for a root. */
    public List<X509Certificate> chainBelowRoot() {
        List<X509Certificate> out = new ArrayList<>();
        for (TestCa ca = this; ca.parent != null; ca = ca.parent) {
            out.add(ca.certificate());
        }
        return out;
    }

    Clock clock() {
        return clock;
    }
}
