package dev.ctwatch.dedup;

import dev.ctwatch.dedup.certificate.CertificateParseException;
import dev.ctwatch.dedup.certificate.CertificateSource;
import dev.ctwatch.dedup.certificate.ParsedCertificate;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.kafka.DeserializationFailureHandler;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Turns observed crt.sh rows into one discovered event per issuance. Consumes whole batches: the
 * steady state of every poll is "all ids known", answered by one query per batch. The batch's
 * offsets are committed after the method returns, i.e. after every emitted event was acknowledged
 * and every transaction committed.
 *
 * <p>No exception leaves the method for a failure that is not the batch's own: the channel's
 * dead-letter strategy would send every record of the batch to the dead-letter topic, those
 * already emitted and those not yet looked at. A transaction that fails for a transient reason
 * (PostgreSQL or the broker, e.g. at commit after the event was acknowledged) is retried while the
 * partition waits ({@link RecordingRetry}); a row that fails by itself goes to the dead-letter
 * topic alone.
 */
@ApplicationScoped
public class Deduplicator {
    private static final Logger LOG = Logger.getLogger(Deduplicator.class);
    /** Backfill rows per transaction; below the emitter's buffer of 128 unacknowledged messages. */
    private static final int BACKFILL_CHUNK = 100;

    @Inject
    IssuanceStore store;

    @Inject
    CertificateSource certificates;

    @Inject
    IssuanceRecorder recorder;

    @Inject
    PendingDownloads pending;

    @Inject
    DeadLetters deadLetters;

    @Inject
    MeterRegistry metrics;

    @Inject
    DedupConfig config;

    private RecordingRetry retry;

    @PostConstruct
    void createRetry() {
        retry = new RecordingRetry(
                config.retry().firstDelay(),
                config.retry().maxDelay(),
                RecordingRetry.Sleeper.THREAD,
                (n, delay, e) -> {
                    metrics.counter("ctwatch.dedup.transaction.retries").increment();
                    LOG.warnf(
                            "transaction failed (%d in a row), retrying in %s ms: %s",
                            n, delay.toMillis(), RecordingFailures.describe(e));
                });
    }

    @Incoming("certificates-observed")
    @Blocking
    public void deduplicate(ConsumerRecords<String, CertificateObserved> batch) {
        Map<Long, CertificateObserved> candidates = new LinkedHashMap<>();
        int repeats = 0;
        for (ConsumerRecord<String, CertificateObserved> record : batch) {
            CertificateObserved observed = record.value();
            String problem = observed == null ? unreadable(record) : ObservedRows.problem(observed);
            if (problem != null) {
                byte[] raw = observed == null
                        ? header(record, DeserializationFailureHandler.DESERIALIZATION_FAILURE_DATA)
                        : null;
                if (raw == null) {
                    deadLetters.send(observed, problem);
                } else {
                    deadLetters.send(record.key(), raw, problem, record.topic(), record.partition(), record.offset());
                }
            } else if (candidates.putIfAbsent(observed.row().id(), observed) != null) {
                repeats++;
            }
        }
        Set<Long> known =
                retry.call(() -> QuarkusTransaction.requiringNew().call(() -> store.knownIds(candidates.keySet())));
        repeats += known.size();
        metrics.counter("ctwatch.dedup.rows", "outcome", "repeat").increment(repeats);
        List<CertificateObserved> unseen = new ArrayList<>();
        candidates.forEach((id, observed) -> {
            if (!known.contains(id)) {
                unseen.add(observed);
            }
        });
        recordBackfills(unseen.stream().filter(CertificateObserved::backfill).toList());
        long downloadDeadline =
                System.nanoTime() + config.download().batchBudget().toNanos();
        for (CertificateObserved observed : unseen) {
            if (observed.backfill()) {
                continue;
            }
            if (System.nanoTime() > downloadDeadline) {
                // the batch has downloaded long enough: the pending job downloads the rest, in order
                recordOrDeadLetter(observed, () -> {
                    pending.defer(observed);
                    return null;
                });
            } else {
                recordUnseen(observed);
            }
        }
    }

    /**
     * Backfill rows need no download: recorded in chunks of one transaction each. A chunk that fails
     * by itself (not transiently) is recorded row by row, so only the row at fault is dead-lettered.
     */
    private void recordBackfills(List<CertificateObserved> rows) {
        for (int from = 0; from < rows.size(); from += BACKFILL_CHUNK) {
            List<CertificateObserved> chunk = rows.subList(from, Math.min(rows.size(), from + BACKFILL_CHUNK));
            try {
                retry.call(() -> recorder.recordBackfills(chunk));
            } catch (RuntimeException e) {
                if (RecordingFailures.of(e) == RecordingFailures.Verdict.RETRY) {
                    throw e; // interrupted while waiting for a retry: the service is stopping
                }
                LOG.warnf(
                        "a chunk of %d backfill rows failed, recording them one by one: %s",
                        chunk.size(), RecordingFailures.describe(e));
                for (CertificateObserved observed : chunk) {
                    MDC.put("issuanceKey", observed.row().issuanceKey().toString());
                    try {
                        recordOrDeadLetter(observed, () -> recorder.recordBackfill(observed));
                    } finally {
                        MDC.remove("issuanceKey");
                    }
                }
            }
        }
    }

    private void recordUnseen(CertificateObserved observed) {
        // ObservedRows.problem checked the row has an issuance key: every log line of this record carries it
        MDC.put("issuanceKey", observed.row().issuanceKey().toString());
        try {
            long id = observed.row().id();
            ParsedCertificate certificate;
            try {
                certificate = certificates.fetch(id);
            } catch (CertificateSource.Unavailable e) {
                recordOrDeadLetter(observed, () -> {
                    pending.park(observed, e.getMessage());
                    return null;
                });
                return;
            } catch (CertificateParseException e) {
                deadLetters.send(observed, "crt.sh served no usable certificate for id " + id + ": " + e.getMessage());
                return;
            }
            // downloaded once; only the transaction is retried
            recordOrDeadLetter(observed, () -> recorder.recordDownloaded(observed, certificate));
        } finally {
            MDC.remove("issuanceKey");
        }
    }

    /** Retries the row's transaction while its failure is transient; a row that fails by itself is dead-lettered. */
    private void recordOrDeadLetter(CertificateObserved observed, Supplier<?> recording) {
        try {
            retry.call(recording);
        } catch (RuntimeException e) {
            if (RecordingFailures.of(e) == RecordingFailures.Verdict.RETRY) {
                // interrupted while waiting for a retry: the service is stopping and the batch fails
                throw e;
            }
            LOG.errorf(e, "crt.sh id %d cannot be recorded", observed.row().id());
            deadLetters.send(observed, "cannot be recorded: " + RecordingFailures.describe(e));
        }
    }

    private static String unreadable(ConsumerRecord<String, ?> record) {
        byte[] reason = header(record, DeserializationFailureHandler.DESERIALIZATION_FAILURE_REASON);
        return reason == null
                ? "record has no value"
                : "unreadable record: " + new String(reason, StandardCharsets.UTF_8);
    }

    private static byte[] header(ConsumerRecord<String, ?> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : header.value();
    }

    /** Checks an observed row can be keyed and recorded at all. */
    static final class ObservedRows {
        private ObservedRows() {}

        static String problem(CertificateObserved observed) {
            CrtShRow row = observed.row();
            if (row == null || row.id() == null || row.issuerCaId() == null) {
                return "observed record carries no crt.sh id or issuer id";
            }
            if (row.serialNumber() == null) {
                return "observed record carries no serial number";
            }
            try {
                row.issuanceKey();
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
            if (observed.backfill() && (row.notBefore() == null || row.notAfter() == null)) {
                return "backfill row without validity cannot be recorded without its certificate";
            }
            return null;
        }
    }
}
