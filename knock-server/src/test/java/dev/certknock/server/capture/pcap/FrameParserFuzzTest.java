package dev.certknock.server.capture.pcap;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any bytes, under any link type, parse to a result without throwing, and an accepted datagram's payload lies
 * inside the frame. The first input byte picks the link type, the rest is the frame. In a plain
 * {@code mvn test} Jazzer runs the committed inputs (regression mode); {@code JAZZER_FUZZ=1} fuzzes.
 */
class FrameParserFuzzTest {

    private static final LinkType[] TYPES = LinkType.values();

    @FuzzTest(maxDuration = "30s")
    void anyFrame(byte[] input) {
        if (input.length == 0) {
            return;
        }
        LinkType type = TYPES[(input[0] & 0xFF) % TYPES.length];
        FrameParser parser = new FrameParser(type, Frames.PORT);
        ParseResult result = parser.parse(input, 1, input.length - 1);
        assertThat(result).isNotNull();
        if (result instanceof ParseResult.Datagram d) {
            assertThat(d.dstPort()).isEqualTo(Frames.PORT);
            assertThat(d.payloadOffset()).isGreaterThanOrEqualTo(1 + type.headerLength() + 8 + 20);
            assertThat((long) d.payloadOffset() + d.payloadLength()).isLessThanOrEqualTo(input.length);
            assertThat(d.src().getAddress().length).isEqualTo(d.dst().getAddress().length);
        }
        // The same frame at offset 0 of its own array gives the same verdict, shifted by one.
        byte[] alone = java.util.Arrays.copyOfRange(input, 1, input.length);
        ParseResult again = parser.parse(alone);
        if (result instanceof ParseResult.Datagram d) {
            assertThat(again).isEqualTo(new ParseResult.Datagram(d.src(), d.srcPort(), d.dst(), d.dstPort(),
                    d.payloadOffset() - 1, d.payloadLength()));
        } else {
            assertThat(again).isEqualTo(result);
        }
    }
}
