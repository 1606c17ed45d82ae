package dev.certknock.server.event;

/**
 * Makes text from outside the server (certificate subjects and issuer names, grants, HTTP reason
 * phrases, messages of failed commands and parsers) safe to put into one operator log line: C0 and C1
 * control characters, DEL, line and paragraph separators, Unicode format characters (bidi controls
 * U+200E/U+200F, U+202A-U+202E, U+2066-U+2069, zero-width characters, U+FEFF, ...) and unpaired
 * surrogates become {@code \}{@code uXXXX}, a backslash becomes two, so no such text can end a log
 * line, forge another one, move the terminal's cursor or reorder what is shown; and the result is
 * bounded in length.
 */
public final class LogText {

    /** The most characters of the original text kept by {@link #of(Object)}. */
    public static final int MAX_LENGTH = 512;

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private LogText() {
    }

    /** {@code value}'s text, escaped, with at most {@link #MAX_LENGTH} characters of it kept. */
    public static String of(Object value) {
        return of(value, MAX_LENGTH);
    }

    /**
     * {@code value}'s text ({@code "null"} for null), escaped; when it has more than {@code maxLength}
     * characters, the first {@code maxLength} (not splitting a surrogate pair) followed by
     * {@code "...(N more characters)"}.
     */
    public static String of(Object value, int maxLength) {
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength " + maxLength + " is negative");
        }
        String s = String.valueOf(value);
        int end = Math.min(s.length(), maxLength);
        if (end > 0 && end < s.length() && Character.isHighSurrogate(s.charAt(end - 1))
                && Character.isLowSurrogate(s.charAt(end))) {
            end--;
        }
        StringBuilder out = new StringBuilder(end + 16);
        int i = 0;
        while (i < end) {
            int cp = s.codePointAt(i);
            int n = Character.charCount(cp);
            if (cp == '\\') {
                out.append("\\\\");
            } else if (mustEscape(cp)) {
                for (int k = i; k < i + n; k++) {
                    appendEscape(out, s.charAt(k));
                }
            } else {
                out.append(s, i, i + n);
            }
            i += n;
        }
        if (end < s.length()) {
            out.append("...(").append(s.length() - end).append(" more characters)");
        }
        return out.toString();
    }

    /** Whether the code point is escaped: controls, DEL, separators, format (bidi) characters, lone surrogates. */
    static boolean mustEscape(int cp) {
        if (Character.isISOControl(cp)) { // C0, DEL, C1
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE;
    }

    private static void appendEscape(StringBuilder out, char c) {
        out.append("\\u").append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF]).append(HEX[(c >> 4) & 0xF])
                .append(HEX[c & 0xF]);
    }
}
