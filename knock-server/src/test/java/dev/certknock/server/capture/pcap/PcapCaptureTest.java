package dev.certknock.server.capture.pcap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.pcap4j.core.Pcaps;

/** What needs no capture privileges: settings, the filter, and a capture that never started. */
class PcapCaptureTest {

    @Test
    void defaultsFollowTheMeasuredSettings() {
        PcapCapture.Settings s = PcapCapture.Settings.of("eth0", 62201);
        assertThat(s.snaplen()).isEqualTo(1600);
        assertThat(s.bufferBytes()).isEqualTo(32 * 1024 * 1024);
        assertThat(s.immediateMode()).isTrue();
        assertThat(s.timeoutMillis()).isEqualTo(10);
        assertThat(s.initialBackoff()).isEqualTo(Duration.ofMillis(500));
        assertThat(s.maxBackoff()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.filter()).isEqualTo(KnockShapeFilter.expression(62201)).startsWith("udp dst port 62201 and ");
    }

    @Test
    void extraFilterIsAndedAndBlankMeansNone() {
        PcapCapture.Settings s = PcapCapture.Settings.of("eth0", 62201);
        assertThat(s.withExtraFilter("not src net 198.51.100.0/24").filter())
                .isEqualTo("(" + KnockShapeFilter.expression(62201) + ") and (not src net 198.51.100.0/24)");
        assertThat(s.withExtraFilter("  ").extraFilter()).isEmpty();
        assertThat(s.withExtraFilter(null).filter()).isEqualTo(KnockShapeFilter.expression(62201));
    }

    @Test
    void settingsAreChecked() {
        PcapCapture.Settings s = PcapCapture.Settings.of("eth0", 62201);
        assertThatThrownBy(() -> PcapCapture.Settings.of(" ", 62201)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PcapCapture.Settings.of("eth0", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PcapCapture.Settings("eth0", 1, 1600, 2 * 1024 * 1024, true, 10, Optional.empty(),
                s.initialBackoff(), s.maxBackoff())).hasMessageContaining("32 MB");
        assertThatThrownBy(() -> new PcapCapture.Settings("eth0", 1, 64, s.bufferBytes(), true, 10, Optional.empty(),
                s.initialBackoff(), s.maxBackoff())).hasMessageContaining("snaplen");
        assertThatThrownBy(() -> new PcapCapture.Settings("eth0", 1, 1600, s.bufferBytes(), true, 0, Optional.empty(),
                s.initialBackoff(), s.maxBackoff())).hasMessageContaining("timeout");
        assertThatThrownBy(() -> s.withBackoff(Duration.ZERO, Duration.ofSeconds(1))).hasMessageContaining("backoff");
        assertThatThrownBy(() -> s.withBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("backoff");
    }

    @Test
    void aCaptureNeverStartedHasEmptyFiguresAndClosesQuietly() {
        PcapCapture c = new PcapCapture(PcapCapture.Settings.of("eth0", 62201), Clock.systemUTC());
        assertThat(c.received()).isZero();
        assertThat(c.skipped()).hasSize(SkipReason.values().length).allSatisfy((r, n) -> assertThat(n).isZero());
        assertThat(c.stats()).isEqualTo(new CaptureStats(0, 0, 0, 0, 0, 0, 0, 0, false));
        assertThat(c.figures()).containsOnlyKeys("frames", "delivered", "refusedBySink", "skipped", "kernelReceived",
                "kernelDropped", "interfaceDropped", "reopens").allSatisfy((k, n) -> assertThat(n).isZero());
        c.close();
        c.close();
        assertThatThrownBy(() -> c.start(d -> true)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anExtraFilterThatDoesNotCompileFailsTheStart() {
        String version;
        try {
            version = Pcaps.libVersion();
        } catch (LinkageError e) {
            version = "";
        }
        assumeThat(version).as("needs libpcap to compile filters").startsWith("libpcap");
        PcapCapture c = new PcapCapture(PcapCapture.Settings.of("ckpcap-none0", 62201).withExtraFilter("no such (filter"),
                Clock.systemUTC());
        try {
            assertThatThrownBy(() -> c.start(d -> true)).isInstanceOf(IOException.class).hasMessageContaining("does not compile");
        } finally {
            c.close();
        }
    }
}
