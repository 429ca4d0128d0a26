package dev.ctwatch.dedup;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.IssuanceKey;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Turns observed crt.sh rows into one discovered event per issuance.
 *
 * <p>The output is sent through an emitter and awaited inside the database transaction, not
 * returned from an {@code @Outgoing} method: the broker must acknowledge the event before the
 * transaction that marks the id as seen commits, or a crash in between would lose the event.
 * The reverse crash (acknowledged, not committed) re-emits it, which the notifier absorbs.
 */
@ApplicationScoped
public class Deduplicator {
    private static final Logger LOG = Logger.getLogger(Deduplicator.class);

    @Inject
    IssuanceStore store;

    @Inject
    CertificateSource certificates;

    @Inject
    @Channel("certificates-discovered")
    MutinyEmitter<CertificateDiscovered> discovered;

    @Inject
    DedupConfig config;

    @Inject
    MeterRegistry metrics;

    @Incoming("certificates-observed")
    @Blocking
    public void deduplicate(CertificateObserved observed) throws CertificateParseException {
        CrtShRow row = observed.row();
        if (row == null || row.id() == null || row.issuerCaId() == null) {
            throw new IllegalArgumentException("observed record carries no crt.sh id or issuer id");
        }
        if (QuarkusTransaction.requiringNew().call(() -> store.isKnown(row.id()))) {
            count("repeat");
            return;
        }
        // downloaded outside the transaction: no database connection is held while crt.sh answers
        ParsedCertificate certificate = certificates.fetch(row.id());
        QuarkusTransaction.requiringNew().run(() -> record(observed, certificate));
    }

    private void record(CertificateObserved observed, ParsedCertificate certificate) {
        CrtShRow row = observed.row();
        if (!store.claimCrtShId(row.id())) {
            count("repeat");
            return;
        }
        var identity = certificate.identity();
        IssuanceKey key = new IssuanceKey(row.issuerCaId(), certificate.serial());
        List<String> known = store.tbsHashes(row.issuerCaId(), identity.serialHex());
        IssuanceDecision.Kind kind = IssuanceDecision.decide(known, identity.tbsSha256());
        Anomaly anomaly = kind == IssuanceDecision.Kind.SERIAL_REUSE
                ? new Anomaly(
                        Anomaly.Kind.SERIAL_REUSE,
                        "serial " + identity.serialHex() + " of issuer " + row.issuerCaId()
                                + " was already used for a different certificate (TBS " + known + ")")
                : IssuanceDecision.rowMismatch(row, certificate).orElse(null);
        long issuanceId = store.insertIssuance(row.issuerCaId(), row.issuerName(), identity, anomaly);
        store.linkCrtShId(row.id(), issuanceId);
        count(kind.name().toLowerCase());
        if (kind == IssuanceDecision.Kind.TWIN) {
            return;
        }
        if (anomaly != null) {
            LOG.warnf("issuance %s: %s %s", key, anomaly.kind(), anomaly.detail());
        }
        CertificateDiscovered event = new CertificateDiscovered(
                key,
                List.of(row.id()),
                row.issuerName(),
                Base64.getEncoder().encodeToString(certificate.der()),
                identity,
                observed.matches(),
                observed.backfill(),
                anomaly,
                Instant.now());
        discovered
                .sendMessage(Message.of(event)
                        .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                                .withKey(key.toString())
                                .build()))
                .await()
                .atMost(config.publishTimeout());
    }

    private void count(String outcome) {
        metrics.counter("ctwatch.dedup.rows", "outcome", outcome).increment();
    }
}
