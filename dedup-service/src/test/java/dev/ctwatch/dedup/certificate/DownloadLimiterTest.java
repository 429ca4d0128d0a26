package dev.ctwatch.dedup.certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class DownloadLimiterTest {

    @Test
    void anIdleLimiterRunsLowPriorityWork() {
        DownloadLimiter limiter = new DownloadLimiter(Duration.ZERO);
        assertThat(limiter.callIfIdle(() -> "done")).contains("done");
        // and is idle again afterwards
        assertThat(limiter.callIfIdle(() -> "again")).contains("again");
    }

    @Test
    @Timeout(30) // a limiter that waits instead of standing back blocks here
    void lowPriorityWorkStandsBackWhileAnotherDownloadRuns() throws Exception {
        DownloadLimiter limiter = new DownloadLimiter(Duration.ZERO);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService hotPath = Executors.newSingleThreadExecutor();
        try {
            Future<String> running = hotPath.submit(() -> limiter.call(() -> {
                inside.countDown();
                release.await();
                return "hot";
            }));
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
            AtomicBoolean ran = new AtomicBoolean();
            assertThat(limiter.callIfIdle(() -> {
                        ran.set(true);
                        return "backfill";
                    }))
                    .isEmpty();
            assertThat(ran).isFalse();
            release.countDown();
            assertThat(running.get(10, TimeUnit.SECONDS)).isEqualTo("hot");
            assertThat(limiter.callIfIdle(() -> "backfill")).contains("backfill");
        } finally {
            release.countDown();
            hotPath.shutdownNow();
        }
    }

    @Test
    void aFailingCallLeavesTheLimiterIdle() {
        DownloadLimiter limiter = new DownloadLimiter(Duration.ZERO);
        assertThatThrownBy(() -> limiter.callIfIdle(() -> {
                    throw new IllegalStateException("503");
                }))
                .hasMessage("503");
        assertThat(limiter.callIfIdle(() -> "next")).contains("next");
    }
}
