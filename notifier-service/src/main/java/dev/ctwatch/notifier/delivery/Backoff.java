package dev.ctwatch.notifier.delivery;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** When to try a failed delivery again. */
public final class Backoff {
    private final Duration initial;
    private final Duration max;

    public Backoff(Duration initial, Duration max) {
        this.initial = initial;
        this.max = max;
    }

    /**
     * Delay after the {@code failures}-th failed attempt (1 = the first): initial, doubled per
     * failure, at most max. A receiver's Retry-After wins when it asks for longer, capped at max.
     */
    public Duration after(int failures, Duration retryAfter) {
        int shift = Math.min(Math.max(failures - 1, 0), 30);
        Duration delay = initial.multipliedBy(1L << shift);
        if (delay.compareTo(max) > 0 || delay.isNegative()) {
            delay = max;
        }
        if (retryAfter != null && retryAfter.compareTo(delay) > 0) {
            delay = retryAfter.compareTo(max) > 0 ? max : retryAfter;
        }
        return delay;
    }

    /** An HTTP Retry-After value: delay-seconds or an HTTP-date; empty when absent or unreadable. */
    public static Optional<Duration> retryAfter(String header, Instant now) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String value = header.strip();
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant();
                Duration wait = Duration.between(now, at);
                return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
            } catch (DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
    }
}
