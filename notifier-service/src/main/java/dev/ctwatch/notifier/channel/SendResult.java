package dev.ctwatch.notifier.channel;

import java.time.Duration;

/**
 * What one send attempt came to. Expected outcomes are data: a 429 or a 5xx is {@link Outcome#RETRY},
 * a 4xx is {@link Outcome#REJECTED} (retrying cannot fix it), a destination still under a
 * Retry-After is {@link Outcome#POSTPONED} (not attempted, no attempt counted).
 *
 * @param detail what to record and log; never a URL or secret
 * @param retryAfter the receiver's Retry-After, or null
 */
public record SendResult(Outcome outcome, String detail, Duration retryAfter) {
    public enum Outcome {
        SENT,
        RETRY,
        REJECTED,
        POSTPONED
    }

    public static SendResult sent() {
        return new SendResult(Outcome.SENT, "sent", null);
    }

    public static SendResult retry(String detail, Duration retryAfter) {
        return new SendResult(Outcome.RETRY, detail, retryAfter);
    }

    public static SendResult rejected(String detail) {
        return new SendResult(Outcome.REJECTED, detail, null);
    }

    public static SendResult postponed(Duration wait) {
        return new SendResult(Outcome.POSTPONED, "rate-limited, not attempted", wait);
    }
}
