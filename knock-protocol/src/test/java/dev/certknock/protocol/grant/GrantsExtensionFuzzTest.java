package dev.certknock.protocol.grant;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes {@link GrantsExtension#decode}: for any bytes it either refuses them with {@link GrantsFormatException}
 * (nothing else may escape) or returns a value that encodes back to the same bytes ({@link GrantsOracle}).
 *
 * <p>Without {@code JAZZER_FUZZ} this runs as a regression test on the empty input and the seeds in
 * {@code src/test/resources/dev/certknock/protocol/grant/GrantsExtensionFuzzTestInputs/fuzz/}; with
 * {@code JAZZER_FUZZ=1} it fuzzes (findings are written to that directory, the generated corpus to
 * {@code .cifuzz-corpus/}).
 */
class GrantsExtensionFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void fuzz(byte[] input) throws Exception {
        GrantsOracle.check(input);
    }
}
