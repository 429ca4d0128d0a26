package dev.ctwatch.fetcher.crtsh;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.random.RandomGenerator;

/** Retry delays: exponential with jitter, a Retry-After header wins when crt.sh sends one. */
public final class Backoff {
    private final Duration initial;
    private final Duration max;
    private final RandomGenerator random;

    public Backoff(Duration initial, Duration max, RandomGenerator random) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max, got " + initial + ", " + max);
        }
        this.initial = initial;
        this.max = max;
        this.random = random;
    }

    /**
     * Delay before retry number {@code retry} (1 for the first): initial * 2^(retry-1), capped, and
     * drawn from its upper half so that many clients backing off together spread out.
     */
    public Duration delay(int retry, Optional<Duration> retryAfter) {
        if (retryAfter.isPresent()) {
            Duration asked = retryAfter.get();
            return asked.isNegative() ? Duration.ZERO : min(asked, max);
        }
        int doublings = Math.max(0, Math.min(retry - 1, 30));
        long cap = max.toMillis();
        long base = Math.min(cap, initial.toMillis() << doublings);
        long half = base / 2;
        return Duration.ofMillis(half + random.nextLong(base - half + 1));
    }

    /** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 10.2.3); anything else is ignored. */
    public static Optional<Duration> parseRetryAfter(String header, Instant now) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String value = header.strip();
        try {
            return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(value))));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant();
                Duration wait = Duration.between(now, at);
                return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
            } catch (DateTimeParseException notADate) {
                return Optional.empty();
            }
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
