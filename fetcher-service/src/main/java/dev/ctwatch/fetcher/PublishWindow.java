package dev.ctwatch.fetcher;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;

/**
 * Keeps at most a fixed number of published records unacknowledged, so a poll streams rows to the
 * broker without waiting chunk by chunk and without holding a 200,000-row answer in memory. The
 * poll is done when {@link #awaitAll} returns: every record acknowledged, or the first failure.
 */
final class PublishWindow {
    private final int size;
    private final Duration timeout;
    private final Semaphore permits;
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();

    PublishWindow(int size, Duration timeout) {
        this.size = size;
        this.timeout = timeout;
        this.permits = new Semaphore(size);
    }

    /** Waits for room in the window; the record then sent must complete with {@link #completion} or {@link #abandon}. */
    void acquire() throws InterruptedException, TimeoutException {
        if (!permits.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("no broker acknowledgement for " + timeout);
        }
    }

    /** The producer callback of one record: counts it and runs {@code onAck} when the broker acknowledged it. */
    Callback completion(Runnable onAck) {
        return (metadata, error) -> {
            if (error == null) {
                acknowledged.incrementAndGet();
                onAck.run();
            } else {
                failure.compareAndSet(null, error);
            }
            permits.release();
        };
    }

    /** The record of the last {@link #acquire} was never handed to the producer. */
    void abandon() {
        permits.release();
    }

    /** Blocks until every tracked record was acknowledged; throws on the first failure or a timeout. */
    long awaitAll() throws InterruptedException, TimeoutException {
        if (!permits.tryAcquire(size, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("no broker acknowledgement for " + timeout);
        }
        permits.release(size);
        Exception error = failure.get();
        if (error != null) {
            throw new IllegalStateException("the broker refused a record: " + error.getMessage(), error);
        }
        return acknowledged.get();
    }
}
