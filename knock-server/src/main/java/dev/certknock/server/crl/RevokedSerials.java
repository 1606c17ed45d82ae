package dev.certknock.server.crl;

import java.math.BigInteger;
import java.security.cert.CRLReason;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;

/**
 * The revoked serials of one accepted CRL, with their revocation date and reason, in a compact immutable form:
 * the serials' minimal two's-complement encodings back to back in one sorted byte array, with offsets, dates
 * (epoch millis) and reason codes in parallel primitive arrays. Per entry it costs the serial's bytes plus 13,
 * less than the entry takes in the CRL's DER (at least serial plus 19), so it is bounded by the CRL's size and
 * thus by {@code crl.maxBytes}. Look-ups are a binary search without allocation (O(log n)).
 */
final class RevokedSerials {

    private static final byte NO_REASON = -1;
    private static final CRLReason[] REASONS = CRLReason.values();
    /** Array headers and fields, counted in {@link #retainedBytes}. */
    private static final int OVERHEAD = 16 + 4 * 16;

    private final byte[] serials;
    private final int[] offsets;
    private final long[] dates;
    private final byte[] reasons;

    /** Collects entries in any order; {@link #build} sorts them and keeps the first of a repeated serial. */
    static final class Builder {
        private byte[][] serials = new byte[16][];
        private long[] dates = new long[16];
        private byte[] reasons = new byte[16];
        private int size;

        void add(BigInteger serial, Instant revocationDate, Optional<CRLReason> reason) {
            if (size == serials.length) {
                int grown = size * 2;
                serials = Arrays.copyOf(serials, grown);
                dates = Arrays.copyOf(dates, grown);
                reasons = Arrays.copyOf(reasons, grown);
            }
            serials[size] = serial.toByteArray();
            dates[size] = revocationDate.toEpochMilli();
            reasons[size] = reason.map(r -> (byte) r.ordinal()).orElse(NO_REASON);
            size++;
        }

        RevokedSerials build() {
            Integer[] order = new Integer[size];
            for (int i = 0; i < size; i++) {
                order[i] = i;
            }
            // stable: of a repeated serial the first entry comes first and is the one kept
            Arrays.sort(order, (a, b) -> compare(serials[a], serials[b]));
            int kept = 0;
            int bytes = 0;
            for (int i = 0; i < size; i++) {
                if (i == 0 || compare(serials[order[i - 1]], serials[order[i]]) != 0) {
                    kept++;
                    bytes += serials[order[i]].length;
                }
            }
            byte[] data = new byte[bytes];
            int[] offsets = new int[kept + 1];
            long[] keptDates = new long[kept];
            byte[] keptReasons = new byte[kept];
            int n = 0;
            int at = 0;
            for (int i = 0; i < size; i++) {
                if (i > 0 && compare(serials[order[i - 1]], serials[order[i]]) == 0) {
                    continue;
                }
                byte[] s = serials[order[i]];
                offsets[n] = at;
                System.arraycopy(s, 0, data, at, s.length);
                at += s.length;
                keptDates[n] = dates[order[i]];
                keptReasons[n] = reasons[order[i]];
                n++;
            }
            offsets[kept] = at;
            return new RevokedSerials(data, offsets, keptDates, keptReasons);
        }
    }

    private RevokedSerials(byte[] serials, int[] offsets, long[] dates, byte[] reasons) {
        this.serials = serials;
        this.offsets = offsets;
        this.dates = dates;
        this.reasons = reasons;
    }

    static final RevokedSerials EMPTY = new Builder().build();

    int size() {
        return dates.length;
    }

    /** The bytes this structure holds on the heap (arrays and their headers), for the memory bound. */
    long retainedBytes() {
        return OVERHEAD + serials.length + 4L * offsets.length + 8L * dates.length + reasons.length;
    }

    boolean contains(BigInteger serial) {
        return indexOf(serial.toByteArray()) >= 0;
    }

    /** The entry of the serial, or null when it is not listed. */
    RevocationStatus.Revoked get(BigInteger serial) {
        int i = indexOf(serial.toByteArray());
        if (i < 0) {
            return null;
        }
        Optional<CRLReason> reason = reasons[i] == NO_REASON ? Optional.empty() : Optional.of(REASONS[reasons[i]]);
        return new RevocationStatus.Revoked(Instant.ofEpochMilli(dates[i]), reason);
    }

    /** The i-th serial in ascending order. */
    BigInteger serial(int i) {
        return new BigInteger(serials, offsets[i], offsets[i + 1] - offsets[i]);
    }

    private int indexOf(byte[] key) {
        int low = 0;
        int high = size() - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int cmp = compare(serials, offsets[mid], offsets[mid + 1] - offsets[mid], key, 0, key.length);
            if (cmp < 0) {
                low = mid + 1;
            } else if (cmp > 0) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    static int compare(byte[] a, byte[] b) {
        return compare(a, 0, a.length, b, 0, b.length);
    }

    /** Orders minimal two's-complement encodings as the integers they encode. */
    static int compare(byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        boolean aNegative = a[aOff] < 0;
        boolean bNegative = b[bOff] < 0;
        if (aNegative != bNegative) {
            return aNegative ? -1 : 1;
        }
        if (aLen != bLen) {
            // minimal encodings: a longer one is further from zero
            return (aLen < bLen) != aNegative ? -1 : 1;
        }
        return Arrays.compareUnsigned(a, aOff, aOff + aLen, b, bOff, bOff + bLen);
    }
}
