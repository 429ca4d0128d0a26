package dev.ctwatch.dedup;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import org.jboss.logging.Logger;

/** Deletes issuances expired for longer than the retention period; crt.sh is queried with exclude=expired anyway. */
@ApplicationScoped
public class Retention {
    private static final Logger LOG = Logger.getLogger(Retention.class);

    @Inject
    IssuanceStore store;

    @Inject
    DedupConfig config;

    @Inject
    MeterRegistry metrics;

    @Scheduled(cron = "${dedup.retention.cron}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void run() {
        purge(Instant.now());
    }

    public int purge(Instant now) {
        Instant cutoff = now.minus(config.retention().expiredFor());
        int deleted = QuarkusTransaction.requiringNew().call(() -> store.deleteExpiredBefore(cutoff));
        metrics.counter("ctwatch.dedup.retention.deleted").increment(deleted);
        LOG.infof("retention: deleted %d issuances expired before %s", deleted, cutoff);
        return deleted;
    }
}
