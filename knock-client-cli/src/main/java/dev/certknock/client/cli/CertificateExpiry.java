package dev.certknock.client.cli;

import dev.certknock.cli.ExitCodes;
import dev.certknock.cli.UserException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.Consumer;

/**
 * Tells the user in time that their certificate runs out: one warning within {@link #WARN_WITHIN} of its notAfter,
 * and an error before anything is sent once it has expired, each with the renew command to ask the security team
 * for (knock-ca renew by serial, which also renews an expired certificate).
 */
final class CertificateExpiry {

    /** How long before the notAfter the warning starts. */
    static final Duration WARN_WITHIN = Duration.ofHours(24);

    private CertificateExpiry() {
    }

    /** Warns (one line) when {@code cert} expires within a day; throws when it already expired. */
    static void check(X509Certificate cert, Instant now, Consumer<String> warnings) {
        Instant notAfter = cert.getNotAfter().toInstant();
        String serial = cert.getSerialNumber().toString(16);
        String who = cert.getSubjectX500Principal().getName();
        String renew = "knock-ca renew --serial " + serial;
        if (!now.isBefore(notAfter)) {
            throw new UserException(ExitCodes.BAD_CREDENTIALS, "your certificate " + who + " (serial " + serial
                    + ") expired at " + notAfter + "; servers refuse knocks with it, so nothing was sent: ask your "
                    + "security team for a renewed bundle (" + renew + ")");
        }
        Duration left = Duration.between(now, notAfter);
        if (left.compareTo(WARN_WITHIN) <= 0) {
            warnings.accept("your certificate " + who + " expires at " + notAfter + " (in " + readable(left)
                    + "): ask your security team to renew it (" + renew + ")");
        }
    }

    /** 23h59m, 42m, 30s: the two largest units. */
    static String readable(Duration d) {
        long s = d.truncatedTo(ChronoUnit.SECONDS).getSeconds();
        long h = s / 3600;
        long m = s % 3600 / 60;
        if (h > 0) {
            return h + "h" + (m > 0 ? m + "m" : "");
        }
        return m > 0 ? m + "m" + (s % 60 > 0 ? s % 60 + "s" : "") : s + "s";
    }
}
