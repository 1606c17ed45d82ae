package dev.certknock.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.certknock.testing.http.CrlServer;
import dev.certknock.testing.time.MutableClock;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class CrlServerAndClockTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void servesPublishedBytesAndAnswersConditionalRequestsWith304() throws Exception {
        try (CrlServer server = CrlServer.start()) {
            assertThat(server.uri("/crl.der").getHost()).isEqualTo("127.0.0.1");
            server.publish("/crl.der", new byte[] {1, 2, 3});
            HttpResponse<byte[]> first = http.send(HttpRequest.newBuilder(server.uri("/crl.der")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body()).containsExactly(1, 2, 3);
            String etag = first.headers().firstValue("ETag").orElseThrow();

            HttpResponse<byte[]> second = http.send(HttpRequest.newBuilder(server.uri("/crl.der"))
                    .header("If-None-Match", etag).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(second.statusCode()).isEqualTo(304);

            server.publish("/crl.der", new byte[] {4});
            HttpResponse<byte[]> third = http.send(HttpRequest.newBuilder(server.uri("/crl.der"))
                    .header("If-None-Match", etag).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(third.statusCode()).isEqualTo(200);
            assertThat(third.body()).containsExactly(4);
            assertThat(server.requestCount("/crl.der")).isEqualTo(3);
            assertThat(server.notModifiedCount("/crl.der")).isEqualTo(1);
        }
    }

    @Test
    void failsAndStallsOnRequest() throws Exception {
        try (CrlServer server = CrlServer.start()) {
            server.fail("/gone", 404);
            assertThat(http.send(HttpRequest.newBuilder(server.uri("/gone")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
            server.publish("/slow", new byte[] {9});
            server.stall("/slow", Duration.ofSeconds(5));
            HttpRequest slow = HttpRequest.newBuilder(server.uri("/slow")).timeout(Duration.ofMillis(300)).build();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> http.send(slow, HttpResponse.BodyHandlers.discarding()))
                    .isInstanceOf(java.net.http.HttpTimeoutException.class);
        }
    }

    @Test
    void theMutableClockMovesOnlyWhenTold() {
        MutableClock clock = MutableClock.at(Instant.parse("2026-01-01T00:00:00Z"));
        Instant first = clock.instant();
        assertThat(clock.instant()).isEqualTo(first);
        clock.advance(Duration.ofSeconds(90));
        assertThat(clock.millis()).isEqualTo(Instant.parse("2026-01-01T00:01:30Z").toEpochMilli());
        var zoned = clock.withZone(ZoneId.of("Asia/Kathmandu"));
        clock.set(Instant.EPOCH);
        assertThat(zoned.instant()).isEqualTo(Instant.EPOCH);
        assertThat(zoned.getZone()).isEqualTo(ZoneId.of("Asia/Kathmandu"));
    }

    @Test
    void wallAndMonotonicTimeMoveTogetherOrApart() {
        MutableClock clock = MutableClock.at(Instant.parse("2026-01-01T00:00:00Z"));
        long start = clock.nanoTime();
        clock.advance(Duration.ofSeconds(2));
        assertThat(clock.nanoTime() - start).as("time passing moves both").isEqualTo(2_000_000_000L);
        clock.stepWall(Duration.ofHours(1));
        clock.set(clock.instant().minusSeconds(30));
        clock.advance(Duration.ofSeconds(-5));
        assertThat(clock.nanoTime() - start).as("wall steps leave the monotonic reading").isEqualTo(2_000_000_000L);
        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:59:27Z"));
        clock.advanceMonotonic(Duration.ofMillis(7));
        assertThat(clock.monotonic().getAsLong() - start).isEqualTo(2_007_000_000L);
        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-01-01T00:59:27Z"));
        assertThat(((MutableClock) clock.withZone(ZoneId.of("Asia/Kathmandu"))).nanoTime()).isEqualTo(clock.nanoTime());
    }
}
