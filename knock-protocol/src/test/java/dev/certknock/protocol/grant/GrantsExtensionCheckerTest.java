package dev.certknock.protocol.grant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.testing.pki.IssuedCertificate;
import dev.certknock.testing.pki.TestCa;
import dev.certknock.testing.time.MutableClock;
import java.security.Provider;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.util.Date;
import java.util.HexFormat;
import java.util.Set;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A critical grants extension fails PKIX validation unless our checker claims it, with the JDK's and BC's validator. */
class GrantsExtensionCheckerTest {

    private static final byte[] GOLDEN = HexFormat.of().parseHex(
            "302F301530060A0106020116300B0A011102021F4002021FA48002012CA1120C106777312E6578616D706C652E74657374");
    private static final Provider BC = new BouncyCastleProvider();

    private final MutableClock clock = MutableClock.atSystemTime();
    private final TestCa ca = TestCa.root("CN=checker root", clock);

    private void validate(String provider, IssuedCertificate leaf, boolean withChecker) throws Exception {
        PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(ca.certificate(), null)));
        p.setRevocationEnabled(false);
        p.setDate(Date.from(clock.instant()));
        if (withChecker) {
            p.addCertPathChecker(new GrantsExtensionChecker());
        }
        CertPathValidator v = provider.equals("BC") ? CertPathValidator.getInstance("PKIX", BC)
                : CertPathValidator.getInstance("PKIX");
        v.validate(CertificateFactory.getInstance("X.509").generateCertPath(leaf.chain()), p);
    }

    private IssuedCertificate withGrants(boolean critical, byte[] value) {
        return ca.leaf("CN=alice").extendedKeyUsage(CertknockOids.KP_CLIENT.getId())
                .extension(CertknockOids.GRANTS_EXTENSION.getId(), critical, value).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"JDK", "BC"})
    void criticalGrantsNeedTheChecker(String provider) throws Exception {
        IssuedCertificate critical = withGrants(true, GOLDEN);
        assertThat(GrantsExtension.isCritical(critical.certificate())).isTrue();
        assertThatThrownBy(() -> validate(provider, critical, false)).isInstanceOf(CertPathValidatorException.class);
        validate(provider, critical, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"JDK", "BC"})
    void nonCriticalGrantsValidateEitherWay(String provider) throws Exception {
        IssuedCertificate plain = withGrants(false, GOLDEN);
        validate(provider, plain, false);
        validate(provider, plain, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"JDK", "BC"})
    void aMalformedCriticalExtensionFailsWithItsReason(String provider) {
        byte[] emptyGrants = HexFormat.of().parseHex("30023000");
        IssuedCertificate malformed = withGrants(true, emptyGrants);
        assertThatThrownBy(() -> validate(provider, malformed, true))
                .isInstanceOf(CertPathValidatorException.class)
                .hasStackTraceContaining("certknock grants extension is malformed");
    }
}
