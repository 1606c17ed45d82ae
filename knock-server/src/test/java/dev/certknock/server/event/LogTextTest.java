package dev.certknock.server.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class LogTextTest {

    static IntStream controlsAndFormatCharacters() {
        return Stream.of(
                        IntStream.rangeClosed(0x00, 0x1F).toArray(), // C0: NUL, TAB, LF, CR, ESC, ...
                        new int[] {0x7F}, // DEL
                        IntStream.rangeClosed(0x80, 0x9F).toArray(), // C1, including CSI U+009B
                        new int[] {0x200E, 0x200F}, // LRM, RLM
                        IntStream.rangeClosed(0x202A, 0x202E).toArray(), // LRE, RLE, PDF, LRO, RLO
                        IntStream.rangeClosed(0x2066, 0x2069).toArray(), // LRI, RLI, FSI, PDI
                        new int[] {0x061C, 0x200B, 0x200D, 0x2060, 0xFEFF, 0x2028, 0x2029, 0xD800, 0xDC00})
                .flatMapToInt(IntStream::of);
    }

    @ParameterizedTest(name = "U+{0}")
    @MethodSource("controlsAndFormatCharacters")
    void eachControlBidiAndFormatCharacterBecomesItsEscape(int c) {
        String escaped = LogText.of("a" + (char) c + "b");
        assertThat(escaped).isEqualTo("a\\u%04Xb".formatted(c));
        assertThat(escaped.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7F)).isTrue();
    }

    static Stream<Arguments> forgedLines() {
        return Stream.of(
                Arguments.of("CN=alice\n2026-12-04 10:00:00 INFO GRANT 203.0.113.9 tcp/22",
                        "CN=alice\\u000A2026-12-04 10:00:00 INFO GRANT 203.0.113.9 tcp/22"),
                Arguments.of("CN=alice\r\nforged", "CN=alice\\u000D\\u000Aforged"),
                Arguments.of("\u001b[2K\u001b[1A\u001b[31mred", "\\u001B[2K\\u001B[1A\\u001B[31mred"),
                Arguments.of("CN=\u202Egnp.exe", "CN=\\u202Egnp.exe"),
                Arguments.of("an \\u000A already written", "an \\\\u000A already written"),
                Arguments.of("Grüße, 日本, \uD83D\uDE00 stay", "Grüße, 日本, \uD83D\uDE00 stay"),
                Arguments.of("tag \uDB40\uDC01 char", "tag \\uDB40\\uDC01 char"));
    }

    @ParameterizedTest
    @MethodSource("forgedLines")
    void textThatWouldForgeOrHideLogLinesIsEscapedAndPlainTextIsKept(String raw, String expected) {
        assertThat(LogText.of(raw)).isEqualTo(expected);
    }

    @Test
    void theLengthIsBoundedWithoutSplittingAPair() {
        assertThat(LogText.of("x".repeat(10_000))).isEqualTo("x".repeat(LogText.MAX_LENGTH) + "...(9488 more characters)");
        assertThat(LogText.of("abcdef", 3)).isEqualTo("abc...(3 more characters)");
        assertThat(LogText.of("ab\uD83D\uDE00c", 3)).isEqualTo("ab...(3 more characters)");
        assertThat(LogText.of("abc", 3)).isEqualTo("abc");
        assertThat(LogText.of(null)).isEqualTo("null");
        assertThatThrownBy(() -> LogText.of("a", -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
