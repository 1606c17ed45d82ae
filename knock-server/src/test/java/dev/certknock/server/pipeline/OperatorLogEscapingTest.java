package dev.certknock.server.pipeline;

import dev.certknock.server.knock.DropReason;
import dev.certknock.server.knock.Verdict;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.certknock.server.ServerFixture;
import dev.certknock.server.event.DropLog;
import dev.certknock.testing.pki.IssuedCertificate;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Text from outside the server reaches the operator log escaped: a certificate subject that carries a
 * newline, an ANSI escape sequence and a bidi override cannot forge a second log line, recolour the
 * terminal or reorder what is shown, on the real accept path (the firewall's GRANT line) and the real
 * drop log.
 */
class OperatorLogEscapingTest {

    private static final String FORGED = "a\n2026-11-22 10:00:00 INFO GRANT 203.0.113.66\u001b[2K\u202Egnp";

    private static void assertEscaped(String line) {
        assertThat(line).doesNotContain("\n", "\r", "\u001b", "\u202E")
                .contains("a\\u000A2026-11-22 10:00:00 INFO GRANT 203.0.113.66\\u001B[2K\\u202Egnp");
    }

    @Test
    void aCertificateSubjectWithANewlineAnsiAndBidiIsEscapedInTheGrantLine() throws Exception {
        ServerFixture f = new ServerFixture();
        PipelineHarness h = new PipelineHarness(f).withCrl(f.ca.crl().build());
        IssuedCertificate mallory = f.client(FORGED).build();
        assertThat(mallory.certificate().getSubjectX500Principal().getName()).as("the test subject is raw").contains("\n");
        List<ILoggingEvent> events;
        try (LogCapture logs = LogCapture.ofThisThread()) {
            Verdict v = h.process(f.knock(mallory, ServerFixture.ssh(60)));
            assertThat(v).isInstanceOf(Verdict.Accepted.class);
            events = logs.events();
        }
        List<String> grants = events.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.startsWith("GRANT ")).toList();
        assertThat(grants).singleElement().satisfies(OperatorLogEscapingTest::assertEscaped);
    }

    @Test
    void aDropDetailFromOutsideIsEscapedInTheDropLog() {
        DropLog log = new DropLog(System::nanoTime, 10);
        List<ILoggingEvent> events;
        try (LogCapture logs = LogCapture.ofThisThread()) {
            log.dropped(new Verdict.Dropped(new InetSocketAddress("198.51.100.7", 40000), DropReason.MALFORMED_CERTIFICATE,
                    "certificate CN=" + FORGED, "ChainValidation"), null);
            events = logs.events();
        }
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getFormattedMessage()).startsWith("dropped knock from 198.51.100.7: MALFORMED_CERTIFICATE");
            assertEscaped(e.getFormattedMessage());
        });
    }
}
