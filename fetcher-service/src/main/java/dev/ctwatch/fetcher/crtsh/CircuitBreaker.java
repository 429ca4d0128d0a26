package dev.ctwatch.fetcher.crtsh;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Stops calling a crt.sh that is down: after {@code threshold} consecutive failures no request
 * goes out for {@code openDuration}; then one trial request decides between closing and opening
 * again. Callers are serialised by the rate limiter, so one trial at a time needs no more care.
 */
public final class CircuitBreaker {

    /** The gauge value is the ordinal: 0 closed, 1 half-open, 2 open. */
    public enum State {
        CLOSED,
        HALF_OPEN,
        OPEN
    }

    private final int threshold;
    private final Duration openDuration;
    private final Clock clock;
    private State state = State.CLOSED;
    private int failures;
    private Instant openUntil = Instant.MIN;

    public CircuitBreaker(int threshold, Duration openDuration, Clock clock) {
        if (threshold < 1) {
            throw new IllegalArgumentException("breaker threshold must be at least 1, got " + threshold);
        }
        this.threshold = threshold;
        this.openDuration = openDuration;
        this.clock = clock;
    }

    /** Whether a request may go out now; an open breaker turns half-open once its time is up. */
    public synchronized boolean allowRequest() {
        if (state == State.OPEN && !clock.instant().isBefore(openUntil)) {
            state = State.HALF_OPEN;
        }
        return state != State.OPEN;
    }

    public synchronized void onSuccess() {
        state = State.CLOSED;
        failures = 0;
    }

    public synchronized void onFailure() {
        failures++;
        if (state == State.HALF_OPEN || failures >= threshold) {
            state = State.OPEN;
            openUntil = clock.instant().plus(openDuration);
        }
    }

    public synchronized State state() {
        if (state == State.OPEN && !clock.instant().isBefore(openUntil)) {
            return State.HALF_OPEN;
        }
        return state;
    }

    /** When an open breaker lets the next trial through. */
    public synchronized Instant openUntil() {
        return openUntil;
    }
}
