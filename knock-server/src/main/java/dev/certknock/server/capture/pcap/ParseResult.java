package dev.certknock.server.capture.pcap;

import java.net.InetAddress;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/** What {@link FrameParser} made of one frame: a UDP datagram to the knock port, or a reason to skip it. */
public sealed interface ParseResult permits ParseResult.Datagram, ParseResult.Skipped {

    /**
     * A UDP datagram to the knock port. The payload is {@code payloadLength} bytes of the parsed frame array
     * starting at {@code payloadOffset} (an index into that array, not relative to the frame offset).
     */
    record Datagram(InetAddress src, int srcPort, InetAddress dst, int dstPort, int payloadOffset, int payloadLength)
            implements ParseResult {
        public Datagram {
            Objects.requireNonNull(src, "src");
            Objects.requireNonNull(dst, "dst");
            if (payloadOffset < 0 || payloadLength < 0) {
                throw new IllegalArgumentException("negative payload bounds");
            }
        }
    }

    /** The frame is not a knock datagram; the reason is counted. */
    record Skipped(SkipReason reason) implements ParseResult {
        private static final Map<SkipReason, Skipped> CACHE = new EnumMap<>(SkipReason.class);

        static {
            for (SkipReason r : SkipReason.values()) {
                CACHE.put(r, new Skipped(r));
            }
        }

        public Skipped {
            Objects.requireNonNull(reason, "reason");
        }

        /** The shared instance for a reason (skipping allocates nothing). */
        public static Skipped of(SkipReason reason) {
            return CACHE.get(reason);
        }
    }
}
