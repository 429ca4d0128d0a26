package dev.ctwatch.fetcher.crtsh;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private final Backoff backoff = new Backoff(Duration.ofSeconds(15), Duration.ofMinutes(10), new Random(7));

    @Test
    void delaysDoubleWithJitterInTheUpperHalfAndStopAtTheCap() {
        for (int retry = 1; retry <= 12; retry++) {
            long base = Math.min(600_000, 15_000L << (retry - 1));
            Duration delay = backoff.delay(retry, Optional.empty());
            assertThat(delay.toMillis()).as("retry %d", retry).isBetween(base / 2, base);
        }
    }

    @Test
    void retryAfterWinsButIsCapped() {
        assertThat(backoff.delay(1, Optional.of(Duration.ofSeconds(42)))).isEqualTo(Duration.ofSeconds(42));
        assertThat(backoff.delay(1, Optional.of(Duration.ofHours(2)))).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void retryAfterIsSecondsOrAnHttpDate() {
        Instant now = Instant.parse("2026-03-01T10:00:00Z");
        assertThat(Backoff.parseRetryAfter("120", now)).contains(Duration.ofSeconds(120));
        assertThat(Backoff.parseRetryAfter("Sun, 01 Mar 2026 10:00:30 GMT", now))
                .contains(Duration.ofSeconds(30));
        assertThat(Backoff.parseRetryAfter("Sun, 01 Mar 2026 09:00:00 GMT", now))
                .contains(Duration.ZERO);
        assertThat(Backoff.parseRetryAfter(null, now)).isEmpty();
        assertThat(Backoff.parseRetryAfter("soon", now)).isEmpty();
    }
}
