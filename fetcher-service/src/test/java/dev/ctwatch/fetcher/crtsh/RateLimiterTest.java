package dev.ctwatch.fetcher.crtsh;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    private static final long SPACING_MS = 500;
    /** How late a loaded machine may run a thread that acquire() has already let go. */
    private static final long SCHEDULING_SLACK_MS = 150;

    @Test
    void requestStartsAreSpacedAndNeverOverlap() throws Exception {
        RateLimiter limiter = new RateLimiter(1, Duration.ofMillis(SPACING_MS));
        List<Long> starts = new CopyOnWriteArrayList<>();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                try (RateLimiter.Permit permit = limiter.acquire()) {
                    starts.add(System.nanoTime());
                    maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                    Thread.sleep(20);
                    inFlight.decrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(maxInFlight).hasValue(1);
        List<Long> sorted = starts.stream().sorted().toList();
        for (int i = 1; i < sorted.size(); i++) {
            // the timestamps are taken just after acquire() returns, so a thread descheduled there (or a
            // GC pause) makes a gap look shorter than it was: allow that much; without a limiter the
            // gaps would be ~20 ms (the work), not ~500
            assertThat(Duration.ofNanos(sorted.get(i) - sorted.get(i - 1)))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(SPACING_MS - SCHEDULING_SLACK_MS));
        }
    }
}
