package dev.ctwatch.dedup;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Runs one row's transaction until it commits. A transient failure ({@link RecordingFailures}) is
 * retried after a doubling delay capped at {@code maxDelay}, with no limit on attempts: the
 * partition waits rather than dead-letter rows that are fine. Any other failure is thrown at once.
 */
public final class RecordingRetry {

    /** Waits between attempts; tests pass one that only records the delays. */
    @FunctionalInterface
    public interface Sleeper {
        Sleeper THREAD = d -> Thread.sleep(d.toMillis());

        void sleep(Duration delay) throws InterruptedException;
    }

    /** Told of every retry, before its delay: metrics and logs. */
    @FunctionalInterface
    public interface Listener {
        void retrying(int failures, Duration delay, RuntimeException failure);
    }

    private final Duration firstDelay;
    private final Duration maxDelay;
    private final Sleeper sleeper;
    private final Listener listener;

    public RecordingRetry(Duration firstDelay, Duration maxDelay, Sleeper sleeper, Listener listener) {
        if (firstDelay.isNegative() || firstDelay.isZero() || maxDelay.compareTo(firstDelay) < 0) {
            throw new IllegalArgumentException("retry delays must be positive and the maximum at least the first: "
                    + firstDelay + ", " + maxDelay);
        }
        this.firstDelay = firstDelay;
        this.maxDelay = maxDelay;
        this.sleeper = sleeper;
        this.listener = listener;
    }

    /** The delay after the {@code failures}-th failure in a row: first, doubled each time, capped. */
    public Duration delay(int failures) {
        Duration delay = firstDelay;
        for (int i = 1; i < failures && delay.compareTo(maxDelay) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(maxDelay) > 0 ? maxDelay : delay;
    }

    /**
     * The attempt's result once it succeeds. A failure that is not transient is thrown; so is a
     * transient one when the thread is interrupted while waiting (the service is stopping).
     */
    public <T> T call(Supplier<T> attempt) {
        for (int failures = 1; ; failures++) {
            try {
                return attempt.get();
            } catch (RuntimeException e) {
                if (RecordingFailures.of(e) != RecordingFailures.Verdict.RETRY) {
                    throw e;
                }
                Duration delay = delay(failures);
                listener.retrying(failures, delay, e);
                try {
                    sleeper.sleep(delay);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    e.addSuppressed(interrupted);
                    throw e;
                }
            }
        }
    }
}
