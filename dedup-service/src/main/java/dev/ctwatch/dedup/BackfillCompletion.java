package dev.ctwatch.dedup;

import dev.ctwatch.dedup.BackfillStore.Due;
import dev.ctwatch.dedup.BackfillStore.Stored;
import dev.ctwatch.dedup.certificate.CertificateParseException;
import dev.ctwatch.dedup.certificate.CertificateSource;
import dev.ctwatch.dedup.certificate.ParsedCertificate;
import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.IssuanceKey;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Downloads, at low priority, the certificates of backfill rows that were recorded from crt.sh's row
 * alone, and completes their issuances: TBS hash, fingerprint, DNs, Authority Key Identifier,
 * precertificate flag. Each run downloads at most {@code dedup.backfill-completion.batch-size}
 * certificates through the hot path's limiter, and only while no other download runs or waits.
 *
 * <p>A completed issuance is not emitted again: its backfill event was the alert. Only what the
 * download reveals that a person must look at is emitted, as the hot path would: a serial reuse
 * hidden behind the assumed precertificate/final pair, or crt.sh serving another certificate than
 * its row ({@code backfill: true}, with the DER and the anomaly).
 */
@ApplicationScoped
public class BackfillCompletion {
    private static final Logger LOG = Logger.getLogger(BackfillCompletion.class);
    /** How long a run owns the rows it took; after a crash they come back this much later. */
    static final Duration LEASE = Duration.ofMinutes(15);

    /** What one run did. */
    public record Run(int downloads, int deferred, int failed, boolean yielded) {}

    @Inject
    BackfillStore store;

    @Inject
    IssuanceStore issuances;

    @Inject
    CertificateSource certificates;

    @Inject
    DeadLetters deadLetters;

    @Inject
    DedupConfig config;

    @Inject
    MeterRegistry metrics;

    @Inject
    IssuanceRecorder recorder;

    private final AtomicLong waiting = new AtomicLong();

    @Inject
    BackfillCompletion(MeterRegistry metrics) {
        metrics.gauge("ctwatch.dedup.backfill.pending", waiting);
    }

    @Scheduled(
            every = "${dedup.backfill-completion.interval}",
            delayed = "${dedup.backfill-completion.interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        if (config.backfillCompletion().enabled()) {
            run(config.backfillCompletion().batchSize());
        } else {
            refreshGauge();
        }
    }

    /** One run: at most {@code budget} downloads, stopping early when another download wants the limiter. */
    public Run run(int budget) {
        Instant now = Instant.now();
        List<Due> due = QuarkusTransaction.requiringNew().call(() -> store.lease(now, budget, LEASE));
        int downloads = 0;
        int deferred = 0;
        int failed = 0;
        boolean yielded = false;
        for (int i = 0; i < due.size(); i++) {
            Due row = due.get(i);
            Attempt attempt = attempt(row);
            if (attempt == Attempt.BUSY) {
                yielded = true;
                List<Due> untried = due.subList(i, due.size());
                QuarkusTransaction.requiringNew().run(() -> untried.forEach(d -> store.release(d.crtShId(), now)));
                break;
            }
            switch (attempt) {
                case DONE -> downloads++;
                case DEFERRED -> deferred++;
                default -> failed++;
            }
        }
        refreshGauge();
        if (!due.isEmpty()) {
            LOG.infof(
                    "backfill completion: %d downloaded, %d deferred, %d failed%s; %d rows wait",
                    downloads, deferred, failed, yielded ? ", stood back for the hot path" : "", waiting.get());
        }
        return new Run(downloads, deferred, failed, yielded);
    }

    private enum Attempt {
        DONE,
        DEFERRED,
        FAILED,
        BUSY
    }

    private Attempt attempt(Due due) {
        CertificateObserved observed = due.observed();
        long id = due.crtShId();
        MDC.put("issuanceKey", observed.row().issuanceKey().toString());
        try {
            Optional<ParsedCertificate> certificate;
            try {
                certificate = certificates.fetchIfIdle(id);
            } catch (CertificateSource.Unavailable e) {
                return deferOrGiveUp(due, observed, e.getMessage());
            } catch (CertificateParseException e) {
                fail(
                        id,
                        observed,
                        "unusable",
                        "crt.sh served no usable certificate for id " + id + ": " + e.getMessage());
                return Attempt.FAILED;
            }
            if (certificate.isEmpty()) {
                return Attempt.BUSY;
            }
            try {
                String outcome =
                        QuarkusTransaction.requiringNew().call(() -> complete(id, observed, certificate.get()));
                if (outcome != null) {
                    metrics.counter("ctwatch.dedup.backfill.completed", "outcome", outcome)
                            .increment();
                }
                return Attempt.DONE;
            } catch (RuntimeException e) {
                // e.g. the broker did not acknowledge an anomaly in time: nothing was committed
                LOG.errorf(e, "crt.sh id %d downloaded but not recorded; tried again later", id);
                return deferOrGiveUp(due, observed, "not recorded: " + e);
            }
        } finally {
            MDC.remove("issuanceKey");
        }
    }

    private Attempt deferOrGiveUp(Due due, CertificateObserved observed, String error) {
        int attempts = due.attempts() + 1;
        if (attempts >= config.download().maxAttempts()) {
            fail(
                    due.crtShId(),
                    observed,
                    "gave-up",
                    "gave up completing a backfill row after " + attempts + " attempts: " + error);
            return Attempt.FAILED;
        }
        Duration delay = PendingDownloads.backoff(
                config.download().retryDelay(), config.download().maxRetryDelay(), attempts);
        QuarkusTransaction.requiringNew()
                .run(() -> store.defer(due.crtShId(), attempts, Instant.now().plus(delay), error));
        metrics.counter("ctwatch.dedup.backfill.deferred").increment();
        return Attempt.DEFERRED;
    }

    /** For good: the issuance stays as recorded from its row; the row goes to the dead-letter topic. */
    private void fail(long crtShId, CertificateObserved observed, String tag, String reason) {
        LOG.warnf("backfill row %d not completed: %s", crtShId, reason);
        deadLetters.send(observed, reason);
        QuarkusTransaction.requiringNew().run(() -> store.remove(crtShId));
        metrics.counter("ctwatch.dedup.backfill.failed", "reason", tag).increment();
    }

    /**
     * In one transaction with the issuances of the row's serial locked; returns the outcome as
     * counted, or null when the issuance is gone (retention).
     */
    private String complete(long crtShId, CertificateObserved observed, ParsedCertificate certificate) {
        CrtShRow row = observed.row();
        IssuanceKey key = row.issuanceKey();
        // the same lock as the hot path's downloads, so a download of this serial cannot decide meanwhile
        issuances.lockSerial(row.issuerCaId(), key.serialHex());
        List<Stored> stored = store.lockIssuances(row.issuerCaId(), key.serialHex());
        Long issuanceId = store.issuanceOf(crtShId);
        Stored own = stored.stream()
                .filter(s -> issuanceId != null && s.id() == issuanceId)
                .findFirst()
                .orElse(null);
        store.remove(crtShId);
        if (own == null) {
            // deleted by retention meanwhile
            return null;
        }
        CertificateIdentity identity = certificate.identity();
        Optional<Anomaly> mismatch = IssuanceDecision.rowMismatch(row, identity);
        if (mismatch.isPresent()) {
            // not this issuance's certificate: keep what the row said, flag it, and tell a person
            store.flag(own.id(), mismatch.get().kind().name());
            emit(key, List.of(crtShId), observed, certificate, mismatch.get());
            return "row_mismatch";
        }
        List<String> hashes = stored.stream().map(Stored::tbsSha256).toList();
        BackfillDecision.Action action = BackfillDecision.decide(own.tbsSha256(), hashes, identity.tbsSha256());
        switch (action) {
            case FILL -> store.fill(own.id(), identity, null);
            case CONFIRM -> {
                // the precertificate/final pair it was taken for
            }
            case MERGE -> store.merge(own.id(), idOf(stored, identity.tbsSha256()));
            case MOVE -> issuances.linkCrtShId(crtShId, idOf(stored, identity.tbsSha256()));
            case FILL_AS_REUSE -> {
                Anomaly reuse = reuse(key, crtShId, hashes);
                store.fill(own.id(), identity, reuse.kind().name());
                emit(key, store.crtShIds(own.id()), observed, certificate, reuse);
            }
            case SPLIT_AS_REUSE -> {
                Anomaly reuse = reuse(key, crtShId, hashes);
                long split = issuances.insertIssuance(row.issuerCaId(), row.issuerName(), identity, reuse, true);
                issuances.linkCrtShId(crtShId, split);
                emit(key, List.of(crtShId), observed, certificate, reuse);
            }
        }
        if (action.kind() == BackfillDecision.Kind.SERIAL_REUSE) {
            // the same counter the hot path's serial reuses raise, so the same alert fires
            metrics.counter("ctwatch.dedup.rows", "outcome", "serial_reuse").increment();
        }
        return action.kind().name().toLowerCase();
    }

    private static Anomaly reuse(IssuanceKey key, long crtShId, List<String> storedHashes) {
        List<String> known = storedHashes.stream()
                .filter(t -> !t.equals(IssuanceDecision.UNKNOWN_TBS))
                .toList();
        return new Anomaly(
                Anomaly.Kind.SERIAL_REUSE,
                "serial " + key.serialHex() + " of issuer " + key.issuerCaId()
                        + " was already used for a different certificate (TBS " + known
                        + "); seen when the backfilled crt.sh id " + crtShId + " was downloaded");
    }

    private static long idOf(List<Stored> stored, String tbs) {
        return stored.stream()
                .filter(s -> s.tbsSha256().equals(tbs))
                .findFirst()
                .orElseThrow()
                .id();
    }

    private void emit(
            IssuanceKey key,
            List<Long> crtShIds,
            CertificateObserved observed,
            ParsedCertificate certificate,
            Anomaly anomaly) {
        LOG.warnf("issuance %s: %s %s", key, anomaly.kind(), anomaly.detail());
        CertificateDiscovered event = new CertificateDiscovered(
                key,
                crtShIds,
                observed.row().issuerName(),
                Base64.getEncoder().encodeToString(certificate.der()),
                certificate.identity(),
                observed.matches(),
                true,
                anomaly,
                Instant.now());
        recorder.emitBeforeCommit(event);
    }

    private void refreshGauge() {
        waiting.set(QuarkusTransaction.requiringNew().call(store::waiting));
    }
}
