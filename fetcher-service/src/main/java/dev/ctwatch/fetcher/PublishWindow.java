package dev.ctwatch.fetcher;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Keeps at most a fixed number of published records unacknowledged, so a poll streams rows to the
 * broker without waiting chunk by chunk and without holding a 200,000-row answer in memory. The
 * poll is done when {@link #awaitAll} returns: every record acknowledged, or the first failure.
 */
final class PublishWindow {
    private final int size;
    private final Semaphore permits;
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    PublishWindow(int size) {
        this.size = size;
        this.permits = new Semaphore(size);
    }

    /** Waits for room in the window, then returns the message with acknowledgement tracking. */
    <T> Message<T> track(Message<T> message, Duration timeout, Runnable onAck)
            throws InterruptedException, TimeoutException {
        if (!permits.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("no broker acknowledgement for " + timeout);
        }
        return message.withAck(() -> {
                    acknowledged.incrementAndGet();
                    onAck.run();
                    permits.release();
                    return CompletableFuture.completedFuture(null);
                })
                .withNack(error -> {
                    failure.compareAndSet(null, error);
                    permits.release();
                    return CompletableFuture.completedFuture(null);
                });
    }

    /** Blocks until every tracked record was acknowledged; throws on the first failure or a timeout. */
    long awaitAll(Duration timeout) throws InterruptedException, TimeoutException {
        if (!permits.tryAcquire(size, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("no broker acknowledgement for " + timeout);
        }
        permits.release(size);
        Throwable error = failure.get();
        if (error != null) {
            throw new IllegalStateException("the broker refused a record: " + error.getMessage(), error);
        }
        return acknowledged.get();
    }

    boolean failed() {
        return failure.get() != null;
    }
}
