package dev.certknock.protocol.grant;

import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.PKIXCertPathChecker;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Set;

/**
 * Lets PKIX validation accept certificates whose grants extension is marked critical: it claims the
 * extension's OID and checks that the value decodes. Add it with
 * {@code PKIXParameters.addCertPathChecker(new GrantsExtensionChecker())}. Without it, a validator
 * rejects such a certificate as carrying an unrecognised critical extension. Stateless and thread-safe.
 */
public final class GrantsExtensionChecker extends PKIXCertPathChecker {

    private static final Set<String> SUPPORTED = Set.of(CertknockOids.GRANTS_EXTENSION.getId());

    @Override
    public void init(boolean forward) {
        // Stateless: nothing to reset.
    }

    @Override
    public boolean isForwardCheckingSupported() {
        return true;
    }

    @Override
    public Set<String> getSupportedExtensions() {
        return SUPPORTED;
    }

    @Override
    public void check(Certificate cert, Collection<String> unresolvedCritExts) throws CertPathValidatorException {
        String oid = CertknockOids.GRANTS_EXTENSION.getId();
        if (!(cert instanceof X509Certificate x509) || x509.getExtensionValue(oid) == null) {
            return;
        }
        try {
            GrantsExtension.fromCertificate(x509);
        } catch (GrantsFormatException e) {
            throw new CertPathValidatorException("certknock grants extension is malformed: " + e.getMessage(), e);
        }
        unresolvedCritExts.remove(oid);
    }

    @Override
    public GrantsExtensionChecker clone() {
        return (GrantsExtensionChecker) super.clone();
    }
}
