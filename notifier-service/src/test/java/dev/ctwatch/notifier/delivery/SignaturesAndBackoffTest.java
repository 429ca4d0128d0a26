package dev.ctwatch.notifier.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.notifier.channel.Signatures;
import dev.ctwatch.notifier.digest.FloodGuard;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SignaturesAndBackoffTest {

    @Test
    void signatureIsHexHmacSha256OfTheBody() {
        // the well-known HMAC-SHA256 vector for key "key"
        assertThat(Signatures.sign(
                        "key", "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    }

    @Test
    void backoffDoublesUpToTheMaximumAndHonoursALongerRetryAfter() {
        Backoff backoff = new Backoff(Duration.ofSeconds(30), Duration.ofHours(1));
        assertThat(backoff.after(1, null)).isEqualTo(Duration.ofSeconds(30));
        assertThat(backoff.after(2, null)).isEqualTo(Duration.ofSeconds(60));
        assertThat(backoff.after(5, null)).isEqualTo(Duration.ofMinutes(8));
        assertThat(backoff.after(8, null)).isEqualTo(Duration.ofHours(1));
        assertThat(backoff.after(200, null)).isEqualTo(Duration.ofHours(1));
        assertThat(backoff.after(1, Duration.ofSeconds(90))).isEqualTo(Duration.ofSeconds(90));
        assertThat(backoff.after(1, Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(30));
        assertThat(backoff.after(1, Duration.ofDays(2))).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void retryAfterIsSecondsOrAnHttpDate() {
        Instant now = Instant.parse("2026-12-04T21:00:00Z");
        assertThat(Backoff.retryAfter("7", now)).contains(Duration.ofSeconds(7));
        assertThat(Backoff.retryAfter("Fri, 04 Dec 2026 21:01:00 GMT", now)).contains(Duration.ofMinutes(1));
        assertThat(Backoff.retryAfter("Fri, 04 Dec 2026 20:00:00 GMT", now)).contains(Duration.ZERO);
        assertThat(Backoff.retryAfter("soon", now)).isEqualTo(Optional.empty());
        assertThat(Backoff.retryAfter(null, now)).isEmpty();
        assertThat(Backoff.retryAfter("-3", now)).isEmpty();
    }

    @Test
    void floodGuardAllowsTheLimitPerMinutePerRoute() {
        FloodGuard guard = new FloodGuard();
        Instant t = Instant.parse("2026-12-04T21:00:00Z");
        assertThat(guard.allow("a", 2, t)).isTrue();
        assertThat(guard.allow("a", 2, t.plusSeconds(1))).isTrue();
        assertThat(guard.allow("a", 2, t.plusSeconds(2))).isFalse();
        assertThat(guard.allow("b", 2, t.plusSeconds(2))).isTrue();
        assertThat(guard.allow("a", 2, t.plusSeconds(61))).isTrue();
    }
}
