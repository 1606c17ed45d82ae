package dev.certknock.ca.issue;

import dev.certknock.ca.CaException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a certificate is valid, as {@code --valid-for} (and {@code --days}) give it: {@code 30m}, {@code 8h},
 * {@code 90d}, {@code 2w}, combinations such as {@code 1d12h} or {@code 1h30m}, or ISO-8601 ({@code PT8H},
 * {@code P90D}, {@code P1DT12H}). Between {@link #MIN} (anything shorter is lost to clock skew) and {@link #MAX}.
 */
public final class Lifetime {

    /** The shortest lifetime: clients and servers disagree on the time by minutes, so less is a mistake. */
    public static final Duration MIN = Duration.ofMinutes(5);

    /** The longest lifetime of a certificate this CA issues (ten years). */
    public static final Duration MAX = Duration.ofDays(3650);

    private static final Pattern PART = Pattern.compile("(\\d{1,7})([wdhms])");
    private static final Pattern WHOLE = Pattern.compile("(?:\\d{1,7}[wdhms])+");

    private Lifetime() {
    }

    /** Parses and checks a lifetime; {@code option} names the option in the error ({@code --valid-for}). */
    public static Duration parse(String text, String option) {
        return check(parseAny(text, option), option + " " + text.strip());
    }

    /** Parses a duration in the same forms, refusing only junk and negative ones (for windows such as --expiring). */
    public static Duration parseAny(String text, String option) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        Duration d;
        if (t.startsWith("p")) {
            try {
                d = Duration.parse(t.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw junk(text, option);
            }
        } else if (WHOLE.matcher(t).matches()) {
            d = Duration.ZERO;
            Matcher m = PART.matcher(t);
            while (m.find()) {
                long n = Long.parseLong(m.group(1));
                d = d.plus(switch (m.group(2)) {
                    case "w" -> Duration.ofDays(7 * n);
                    case "d" -> Duration.ofDays(n);
                    case "h" -> Duration.ofHours(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofSeconds(n);
                });
            }
        } else {
            throw junk(text, option);
        }
        if (d.isNegative()) {
            throw junk(text, option);
        }
        return d;
    }

    /** Whole days, as {@code --days} gives them. */
    public static Duration days(int days) {
        return check(Duration.ofDays(days), "--days " + days);
    }

    /** Refuses a lifetime shorter than {@link #MIN} or longer than {@link #MAX}. */
    public static Duration check(Duration d, String what) {
        if (d.compareTo(MIN) < 0) {
            throw CaException.badInput(what + " is " + format(d) + ", shorter than the minimum " + format(MIN)
                    + ": clocks disagree by minutes, so a shorter certificate may be expired when it arrives; give "
                    + format(MIN) + " or more");
        }
        if (d.compareTo(MAX) > 0) {
            throw CaException.badInput(what + " is " + format(d) + ", longer than the maximum " + format(MAX)
                    + " (3650 days): give a shorter lifetime");
        }
        return d;
    }

    /** A lifetime as {@code --valid-for} takes it back: {@code 90d}, {@code 8h}, {@code 1d12h30m}, {@code 0s}. */
    public static String format(Duration d) {
        long s = d.getSeconds();
        StringBuilder b = new StringBuilder();
        long[] sizes = {86400, 3600, 60, 1};
        String[] units = {"d", "h", "m", "s"};
        for (int i = 0; i < sizes.length; i++) {
            if (s >= sizes[i]) {
                b.append(s / sizes[i]).append(units[i]);
                s %= sizes[i];
            }
        }
        return b.length() == 0 ? "0s" : b.toString();
    }

    private static CaException junk(String text, String option) {
        return CaException.badInput(option + " '" + text + "' is not a duration: give a number and a unit, w(eeks), "
                + "d(ays), h(ours), m(inutes) or s(econds), e.g. 30m, 8h, 90d or 1d12h, or ISO-8601 such as PT8H or P90D");
    }
}
