package dev.ctwatch.dedup.certificate;

import java.time.Duration;

/** One crt.sh download in flight and at least a minimum interval between two starts. */
public final class DownloadLimiter {
    private final long minIntervalNanos;
    private long nextStart = System.nanoTime();

    public DownloadLimiter(Duration minInterval) {
        this.minIntervalNanos = minInterval.toNanos();
    }

    /** Runs the call when the limiter allows it; callers queue on the monitor in arrival order. */
    public synchronized <T, E extends Exception> T call(ThrowingSupplier<T, E> call) throws E {
        long wait = nextStart - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the crt.sh rate limit", e);
            }
        }
        try {
            return call.get();
        } finally {
            nextStart = System.nanoTime() + minIntervalNanos;
        }
    }

    @FunctionalInterface
    public interface ThrowingSupplier<T, E extends Exception> {
        T get() throws E;
    }
}
