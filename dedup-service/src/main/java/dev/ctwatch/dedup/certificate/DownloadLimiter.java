package dev.ctwatch.dedup.certificate;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One crt.sh download in flight and at least a minimum interval between two starts. Low-priority
 * work (completing backfilled issuances) takes the limiter only when no other caller holds or
 * waits for it, so a hot-path download waits behind at most one of those.
 */
public final class DownloadLimiter {
    private final long minIntervalNanos;
    private long nextStart = System.nanoTime();
    /** Callers inside {@link #call} or {@link #callIfIdle}: running or waiting for their turn. */
    private final AtomicInteger callers = new AtomicInteger();

    public DownloadLimiter(Duration minInterval) {
        this.minIntervalNanos = minInterval.toNanos();
    }

    /** Runs the call when the limiter allows it; callers queue on the monitor. */
    public <T, E extends Exception> T call(ThrowingSupplier<T, E> call) throws E {
        callers.incrementAndGet();
        try {
            return locked(call);
        } finally {
            callers.decrementAndGet();
        }
    }

    /**
     * Runs the call only if nobody else runs or waits for a download now; empty otherwise, without
     * waiting. A caller arriving afterwards waits for this one call at most.
     */
    public <T, E extends Exception> Optional<T> callIfIdle(ThrowingSupplier<T, E> call) throws E {
        if (!callers.compareAndSet(0, 1)) {
            return Optional.empty();
        }
        try {
            return Optional.of(locked(call));
        } finally {
            callers.decrementAndGet();
        }
    }

    private synchronized <T, E extends Exception> T locked(ThrowingSupplier<T, E> call) throws E {
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
