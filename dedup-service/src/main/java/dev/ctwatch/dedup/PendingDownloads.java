package dev.ctwatch.dedup;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ctwatch.dedup.certificate.CertificateParseException;
import dev.ctwatch.dedup.certificate.CertificateSource;
import dev.ctwatch.dedup.certificate.ParsedCertificate;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.EventJson;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Rows whose certificate crt.sh could not give within the retry budget. They wait in PostgreSQL
 * (surviving restarts) and a scheduled job retries them with a doubling delay, so a crt.sh outage
 * neither drops them nor holds up the other rows of their partition.
 */
@ApplicationScoped
public class PendingDownloads {
    private static final Logger LOG = Logger.getLogger(PendingDownloads.class);
    private static final int BATCH = 20;

    @Inject
    EntityManager em;

    @Inject
    CertificateSource certificates;

    @Inject
    IssuanceRecorder recorder;

    @Inject
    DeadLetters deadLetters;

    @Inject
    DedupConfig config;

    private final AtomicLong waiting = new AtomicLong();
    private final AtomicLong oldestSeconds = new AtomicLong();
    private final MeterRegistry metrics;

    @Inject
    PendingDownloads(MeterRegistry metrics) {
        this.metrics = metrics;
        metrics.gauge("ctwatch.dedup.pending.downloads", waiting);
        // how long the oldest row has waited (since parked or deferred): what an alert on
        // "a certificate not notified for hours" needs, which the count cannot tell
        Gauge.builder("ctwatch.dedup.pending.downloads.oldest", oldestSeconds, AtomicLong::get)
                .baseUnit("seconds")
                .description("age of the oldest row waiting for a later download, 0 when none")
                .register(metrics);
    }

    /**
     * Hands a row to this job without a failed attempt: its batch spent its download budget. Due at
     * once; a row already waiting keeps its schedule.
     */
    public void defer(CertificateObserved observed) {
        insert(observed, 0, Instant.now(), "deferred: its batch spent the download budget");
        // a batch defers its rows one after the other: counting the whole table after each would
        // repeat one answer hundreds of times on the consumer's thread; the job's next run counts
        metrics.counter("ctwatch.dedup.downloads.deferred").increment();
    }

    /** Parks a row for a later download; a row already parked keeps its schedule. */
    public void park(CertificateObserved observed, String reason) {
        insert(observed, 1, Instant.now().plus(config.download().retryDelay()), reason);
        LOG.warnf("crt.sh id %d parked for a later download: %s", observed.row().id(), reason);
        refreshGauge();
    }

    private void insert(CertificateObserved observed, int attempts, Instant due, String reason) {
        String json;
        try {
            json = EventJson.mapper().writeValueAsString(observed);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an observed row that was just read must serialise", e);
        }
        QuarkusTransaction.requiringNew()
                .run(() -> em.createNativeQuery("""
                        insert into {h-schema}pending_download (crtsh_id, observed, next_attempt_at, last_error, attempts)
                        values (?1, ?2, ?3, ?4, ?5) on conflict do nothing
                        """)
                        .setParameter(1, observed.row().id())
                        .setParameter(2, json)
                        .setParameter(3, Timestamp.from(due))
                        .setParameter(4, reason)
                        .setParameter(5, attempts)
                        .executeUpdate());
    }

    @Scheduled(every = "${dedup.download.pending-interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void retryDue() {
        // keeps going while rows are due (deferred ones are due at once); the limiter paces the downloads
        List<Object[]> due;
        do {
            due = QuarkusTransaction.requiringNew().call(() -> due(Instant.now()));
            for (Object[] row : due) {
                retry(((Number) row[0]).longValue(), (String) row[1], ((Number) row[2]).intValue());
            }
            refreshGauge();
        } while (due.size() == BATCH);
    }

    @SuppressWarnings("unchecked")
    private List<Object[]> due(Instant now) {
        return em.createNativeQuery("""
                        select crtsh_id, observed, attempts from {h-schema}pending_download
                        where next_attempt_at <= ?1 order by next_attempt_at limit ?2
                        """)
                .setParameter(1, Timestamp.from(now))
                .setParameter(2, BATCH)
                .getResultList();
    }

    private void retry(long crtShId, String json, int attempts) {
        CertificateObserved observed;
        try {
            observed = EventJson.mapper().readValue(json, CertificateObserved.class);
        } catch (JsonProcessingException e) {
            // written by this service; if a release can no longer read it, keep it for a fixed one
            // and let the rows behind it go on
            LOG.errorf("pending row %d no longer reads, kept: %s", crtShId, e.getOriginalMessage());
            reschedule(
                    crtShId,
                    attempts,
                    "unreadable: " + e.getOriginalMessage(),
                    config.download().maxRetryDelay());
            return;
        }
        // a parked row was checked for an issuance key before it was parked
        MDC.put("issuanceKey", observed.row().issuanceKey().toString());
        try {
            ParsedCertificate certificate = certificates.fetch(crtShId);
            recorder.recordDownloaded(observed, certificate);
            delete(crtShId);
        } catch (CertificateParseException e) {
            deadLetters.send(observed, "crt.sh served no usable certificate for id " + crtShId + ": " + e.getMessage());
            delete(crtShId);
        } catch (CertificateSource.Unavailable e) {
            if (attempts + 1 >= config.download().maxAttempts()) {
                deadLetters.send(observed, "gave up after " + (attempts + 1) + " download attempts: " + e.getMessage());
                delete(crtShId);
            } else {
                reschedule(crtShId, attempts + 1, e.getMessage(), backoff(attempts + 1));
            }
        } catch (RuntimeException e) {
            // the certificate came, recording it failed: the same verdicts as on the hot path, but a
            // row that keeps failing must not sit at the head of this queue and stall the rows behind it
            if (RecordingFailures.of(e) == RecordingFailures.Verdict.RETRY) {
                metrics.counter("ctwatch.dedup.transaction.retries").increment();
                LOG.warnf(
                        "crt.sh id %d downloaded but not recorded, again in %s: %s",
                        crtShId, config.download().retryDelay(), RecordingFailures.describe(e));
                // the download attempts stay as they were: crt.sh did its part
                reschedule(
                        crtShId,
                        attempts,
                        "cannot be recorded yet: " + RecordingFailures.describe(e),
                        config.download().retryDelay());
            } else {
                LOG.errorf(e, "crt.sh id %d cannot be recorded", crtShId);
                deadLetters.send(observed, "cannot be recorded: " + RecordingFailures.describe(e));
                delete(crtShId);
            }
        } finally {
            MDC.remove("issuanceKey");
        }
    }

    /** Doubling delay from the configured first delay, capped. */
    static Duration backoff(Duration first, Duration max, int attempts) {
        Duration delay = first.multipliedBy(1L << Math.min(attempts - 1, 20));
        return delay.compareTo(max) > 0 ? max : delay;
    }

    private Duration backoff(int attempts) {
        return backoff(config.download().retryDelay(), config.download().maxRetryDelay(), attempts);
    }

    private void reschedule(long crtShId, int attempts, String error, Duration delay) {
        QuarkusTransaction.requiringNew()
                .run(() -> em.createNativeQuery("""
                        update {h-schema}pending_download set attempts = ?1, next_attempt_at = ?2, last_error = ?3
                        where crtsh_id = ?4
                        """)
                        .setParameter(1, attempts)
                        .setParameter(2, Timestamp.from(Instant.now().plus(delay)))
                        .setParameter(3, error)
                        .setParameter(4, crtShId)
                        .executeUpdate());
    }

    private void delete(long crtShId) {
        QuarkusTransaction.requiringNew()
                .run(() -> em.createNativeQuery("delete from {h-schema}pending_download where crtsh_id = ?1")
                        .setParameter(1, crtShId)
                        .executeUpdate());
    }

    /** Count and oldest age in one query, so the two gauges describe the same moment. */
    private void refreshGauge() {
        Object[] row = QuarkusTransaction.requiringNew()
                .call(() -> (Object[]) em.createNativeQuery("""
                                select count(*), coalesce(extract(epoch from now() - min(first_failed_at)), 0)
                                from {h-schema}pending_download
                                """).getSingleResult());
        waiting.set(((Number) row[0]).longValue());
        oldestSeconds.set(((Number) row[1]).longValue());
    }
}
