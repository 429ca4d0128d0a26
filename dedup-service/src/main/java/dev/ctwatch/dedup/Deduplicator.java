package dev.ctwatch.dedup;

import dev.ctwatch.dedup.certificate.CertificateParseException;
import dev.ctwatch.dedup.certificate.CertificateSource;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.kafka.DeserializationFailureHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.MDC;

/**
 * Turns observed crt.sh rows into one discovered event per issuance. Consumes whole batches: the
 * steady state of every poll is "all ids known", answered by one query per batch. The batch's
 * offsets are committed after the method returns, i.e. after every emitted event was acknowledged
 * and every transaction committed.
 */
@ApplicationScoped
public class Deduplicator {

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
        Set<Long> known = QuarkusTransaction.requiringNew().call(() -> store.knownIds(candidates.keySet()));
        repeats += known.size();
        metrics.counter("ctwatch.dedup.rows", "outcome", "repeat").increment(repeats);
        List<CertificateObserved> unseen = new ArrayList<>();
        candidates.forEach((id, observed) -> {
            if (!known.contains(id)) {
                unseen.add(observed);
            }
        });
        for (CertificateObserved observed : unseen) {
            recordUnseen(observed);
        }
    }

    private void recordUnseen(CertificateObserved observed) {
        // ObservedRows.problem checked the row has an issuance key: every log line of this record carries it
        MDC.put("issuanceKey", observed.row().issuanceKey().toString());
        try {
            if (observed.backfill()) {
                recorder.recordBackfill(observed);
                return;
            }
            long id = observed.row().id();
            try {
                recorder.recordDownloaded(observed, certificates.fetch(id));
            } catch (CertificateSource.Unavailable e) {
                pending.park(observed, e.getMessage());
            } catch (CertificateParseException e) {
                deadLetters.send(observed, "crt.sh served no usable certificate for id " + id + ": " + e.getMessage());
            }
        } finally {
            MDC.remove("issuanceKey");
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
