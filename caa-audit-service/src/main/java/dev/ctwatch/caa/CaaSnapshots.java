package dev.ctwatch.caa;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/** Snapshots the CAA of every watched name, so findings can be graded from our own history. */
@ApplicationScoped
public class CaaSnapshots {
    private static final Logger LOG = Logger.getLogger(CaaSnapshots.class);

    private final CaaAuditService audits;

    public CaaSnapshots(CaaAuditService audits) {
        this.audits = audits;
    }

    @Scheduled(
            identity = "caa-snapshots",
            every = "${caa-audit.history.snapshot-interval}",
            delayed = "${caa-audit.history.snapshot-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void snapshot() {
        try {
            int names = audits.snapshot();
            LOG.debugf("CAA snapshot of %d watched names", names);
        } catch (RuntimeException e) {
            LOG.warn("CAA snapshot failed; the next run tries again", e);
        }
    }
}
