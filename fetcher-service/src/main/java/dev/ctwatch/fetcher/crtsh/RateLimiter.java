package dev.ctwatch.fetcher.crtsh;

import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * The one gate every crt.sh request of the service passes: at most {@code maxInFlight} requests
 * at once and at least {@code minSpacing} between the starts of two, since crt.sh limits per IP.
 */
public final class RateLimiter {
    private final Semaphore inFlight;
    private final long spacingNanos;
    private long nextStart = Long.MIN_VALUE;

    public RateLimiter(int maxInFlight, Duration minSpacing) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("max in flight must be at least 1, got " + maxInFlight);
        }
        this.inFlight = new Semaphore(maxInFlight, true);
        this.spacingNanos = minSpacing.toNanos();
    }

    /** Blocks until a request may start; pair every call with {@link Permit#close()}. */
    public Permit acquire() throws InterruptedException {
        inFlight.acquire();
        try {
            long wait;
            synchronized (this) {
                long now = System.nanoTime();
                long start = nextStart == Long.MIN_VALUE ? now : Math.max(now, nextStart);
                nextStart = start + spacingNanos;
                wait = start - now;
            }
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                synchronized (this) {
                    // a sleep that overran moves the next start too: the spacing holds between actual starts
                    nextStart = Math.max(nextStart, System.nanoTime() + spacingNanos);
                }
            }
        } catch (InterruptedException | RuntimeException e) {
            inFlight.release();
            throw e;
        }
        return inFlight::release;
    }

    /** Releases the in-flight slot when the answer has been read. */
    public interface Permit extends AutoCloseable {
        @Override
        void close();
    }
}
