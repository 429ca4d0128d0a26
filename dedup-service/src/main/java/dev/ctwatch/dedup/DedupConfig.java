package dev.ctwatch.dedup;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Configuration of the dedup service. */
@ConfigMapping(prefix = "dedup")
public interface DedupConfig {

    /** Sent to crt.sh with every download. */
    @WithDefault("ctwatch/0.1 (certificate transparency monitor)")
    String userAgent();

    /** How long an issuance waits for the broker's acknowledgement before its transaction rolls back. */
    @WithDefault("PT30S")
    Duration publishTimeout();

    Download download();

    Retry retry();

    Retention retention();

    BackfillCompletion backfillCompletion();

    interface Download {
        /** Minimum time between two crt.sh downloads of this service (crt.sh allows about one per second per IP). */
        @WithDefault("PT2S")
        Duration minInterval();

        /** First delay before a failed download is tried again by the pending job; doubles per attempt. */
        @WithDefault("PT1M")
        Duration retryDelay();

        /** Upper bound of that delay. */
        @WithDefault("PT1H")
        Duration maxRetryDelay();

        /** Attempts after which a row goes to the dead-letter topic instead. */
        @WithDefault("48")
        int maxAttempts();

        /** How often the pending job looks for due downloads. */
        @WithDefault("30s")
        String pendingInterval();

        /**
         * Longest a batch spends downloading; its remaining unseen rows go to the pending job. At
         * crt.sh's pace a batch of 2,000 new rows would take an hour, and SmallRye gives up on a
         * consumer whose oldest record waits longer than its unprocessed-record limit.
         */
        @WithDefault("PT20S")
        Duration batchBudget();
    }

    /**
     * A row's transaction that failed for a transient reason (PostgreSQL or the broker away): tried
     * again after a doubling delay, without a limit on attempts, while the partition waits.
     */
    interface Retry {
        /** First wait. */
        @WithDefault("PT0.5S")
        Duration firstDelay();

        /** Cap of the wait. */
        @WithDefault("PT30S")
        Duration maxDelay();
    }

    interface Retention {
        /** Issuances expired for longer than this are deleted. */
        @WithDefault("P90D")
        Duration expiredFor();

        /** When the retention job runs (cron). */
        @WithDefault("0 17 3 * * ?")
        String cron();
    }

    /**
     * The low-priority job that downloads the certificates of backfill rows after they were recorded
     * from crt.sh's row alone ({@code dedup.backfill-completion.*}).
     */
    interface BackfillCompletion {
        /** Whether the job runs at all. */
        @WithDefault("true")
        boolean enabled();

        /** How often it runs. */
        @WithDefault("60s")
        String interval();

        /**
         * At most this many downloads per run; a run also stops at the first download the hot path
         * wants at the same time.
         */
        @WithDefault("20")
        int batchSize();
    }
}
