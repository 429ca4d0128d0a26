package dev.ctwatch.dedup;

import dev.ctwatch.dedup.certificate.ParsedCertificate;
import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.IssuanceKey;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.InvalidTransactionException;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Records one unseen crt.sh id and emits its issuance when it is new, in one transaction.
 *
 * <p>The event is sent through an emitter and awaited inside the transaction rather than returned
 * from an {@code @Outgoing} method: the broker must acknowledge it before the transaction that
 * marks the id as seen commits, or a crash in between would lose it. The reverse crash
 * (acknowledged, not committed) re-emits it on redelivery, which the notifier's delivery log absorbs.
 */
@ApplicationScoped
public class IssuanceRecorder {
    private static final Logger LOG = Logger.getLogger(IssuanceRecorder.class);

    @Inject
    IssuanceStore store;

    @Inject
    @Channel("certificates-discovered")
    MutinyEmitter<CertificateDiscovered> discovered;

    @Inject
    BackfillStore backfill;

    @Inject
    DedupConfig config;

    @Inject
    MeterRegistry metrics;

    @Inject
    TransactionManager transactions;

    /** A row whose certificate was downloaded. */
    public IssuanceDecision.Kind recordDownloaded(CertificateObserved observed, ParsedCertificate certificate) {
        return QuarkusTransaction.requiringNew()
                .call(() -> record(observed, certificate.identity(), certificate.der()));
    }

    /**
     * A backfill row, recorded from crt.sh's row alone: onboarding a domain with thousands of
     * certificates must not cost one rate-limited download each. The event carries no DER.
     */
    public IssuanceDecision.Kind recordBackfill(CertificateObserved observed) {
        return recordBackfills(List.of(observed)).get(0);
    }

    /**
     * Backfill rows in one transaction: their events are sent together and all acknowledged before
     * the commit. An onboarding of thousands of rows then costs one commit and one broker round trip
     * per chunk instead of per row. Any failure rolls back the whole chunk (events already
     * acknowledged are sent again when it is retried, as after a crash).
     */
    public List<IssuanceDecision.Kind> recordBackfills(List<CertificateObserved> rows) {
        return QuarkusTransaction.requiringNew().call(() -> {
            List<Message<CertificateDiscovered>> sends = new ArrayList<>();
            List<IssuanceDecision.Kind> kinds = new ArrayList<>();
            for (CertificateObserved observed : rows) {
                IssuanceDecision.Kind kind = record(observed, identityFromRow(observed.row()), null, sends);
                if (kind != null) {
                    // its certificate is downloaded later, at low priority (BackfillCompletion)
                    backfill.queue(observed);
                }
                kinds.add(kind);
            }
            sendAll(sends);
            return kinds;
        });
    }

    private IssuanceDecision.Kind record(CertificateObserved observed, CertificateIdentity identity, byte[] der) {
        List<Message<CertificateDiscovered>> sends = new ArrayList<>(1);
        IssuanceDecision.Kind kind = record(observed, identity, der, sends);
        sendAll(sends);
        return kind;
    }

    /**
     * Sends the events and waits for the broker's acknowledgements, all before the caller commits.
     * The transaction is suspended meanwhile: the emitter's callbacks would otherwise carry it to
     * the Kafka client's threads, and Narayana rolls back a commit while another thread is still
     * inside the transaction ("committing with 2 threads active").
     */
    private void sendAll(List<Message<CertificateDiscovered>> messages) {
        if (messages.isEmpty()) {
            return;
        }
        Transaction transaction;
        try {
            transaction = transactions.suspend();
        } catch (SystemException e) {
            throw new IllegalStateException("cannot suspend the transaction to send its events", e);
        }
        try {
            Uni.join()
                    .all(messages.stream().map(discovered::sendMessage).toList())
                    .andFailFast()
                    .await()
                    .atMost(config.publishTimeout());
        } finally {
            try {
                transactions.resume(transaction);
            } catch (InvalidTransactionException | SystemException e) {
                throw new IllegalStateException("cannot resume the transaction after sending its events", e);
            }
        }
    }

    /** Records the row; an event to emit is added to {@code sends}, which the caller sends and awaits before committing. */
    private IssuanceDecision.Kind record(
            CertificateObserved observed,
            CertificateIdentity identity,
            byte[] der,
            List<Message<CertificateDiscovered>> sends) {
        CrtShRow row = observed.row();
        if (!store.claimCrtShId(row.id())) {
            count("repeat");
            return null;
        }
        IssuanceKey key = new IssuanceKey(row.issuerCaId(), IssuanceKey.parseSerial(identity.serialHex()));
        if (der != null) {
            // a downloaded certificate can be a serial reuse: decide it alone. Backfill rows carry no
            // TBS hash, so they cannot, and their chunks of 100 take no lock (nor risk a deadlock).
            store.lockSerial(row.issuerCaId(), key.serialHex());
        }
        List<String> known = store.tbsHashes(row.issuerCaId(), identity.serialHex());
        IssuanceDecision.Kind kind = IssuanceDecision.decide(known, identity.tbsSha256());
        Anomaly anomaly = null;
        if (kind == IssuanceDecision.Kind.SERIAL_REUSE) {
            anomaly = new Anomaly(
                    Anomaly.Kind.SERIAL_REUSE,
                    "serial " + identity.serialHex() + " of issuer " + row.issuerCaId()
                            + " was already used for a different certificate (TBS " + known + ")");
        } else if (der != null) {
            anomaly = IssuanceDecision.rowMismatch(row, identity).orElse(null);
        }
        if (kind == IssuanceDecision.Kind.TWIN && der != null && known.contains(IssuanceDecision.UNKNOWN_TBS)) {
            // before the insert: after it, the completed row would collide with the one just inserted (unique key)
            store.completeBackfilled(row.issuerCaId(), identity);
        }
        IssuanceStore.Stored stored =
                store.storeIssuance(row.issuerCaId(), row.issuerName(), identity, anomaly, der != null);
        if (!stored.created() && kind != IssuanceDecision.Kind.TWIN) {
            // another instance stored this very issuance (its twin's crt.sh id) since we looked: it emits, we do not
            kind = IssuanceDecision.Kind.TWIN;
        }
        store.linkCrtShId(row.id(), stored.id());
        count(kind.name().toLowerCase());
        if (kind == IssuanceDecision.Kind.TWIN) {
            return kind;
        }
        if (anomaly != null) {
            LOG.warnf("issuance %s: %s %s", key, anomaly.kind(), anomaly.detail());
        }
        CertificateDiscovered event = new CertificateDiscovered(
                key,
                List.of(row.id()),
                row.issuerName(),
                der == null ? null : Base64.getEncoder().encodeToString(der),
                identity,
                observed.matches(),
                observed.backfill(),
                anomaly,
                Instant.now());
        sends.add(keyed(event));
        return kind;
    }

    /**
     * Sends one event and waits for the broker before the caller's transaction commits, as for the
     * rows recorded here (and with the transaction suspended meanwhile, see {@link #sendAll}).
     */
    void emitBeforeCommit(CertificateDiscovered event) {
        sendAll(List.of(keyed(event)));
    }

    /** Keyed by its issuance key, as the contract says. */
    private static Message<CertificateDiscovered> keyed(CertificateDiscovered event) {
        return Message.of(event)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                        .withKey(event.key().toString())
                        .build());
    }

    /** What crt.sh's row says about a certificate; the DN is crt.sh's spelling. */
    static CertificateIdentity identityFromRow(CrtShRow row) {
        return new CertificateIdentity(
                IssuanceKey.parseSerial(row.serialNumber()).toString(16),
                row.issuerName(),
                row.commonName() == null ? null : "CN=" + row.commonName(),
                row.names().stream()
                        .filter(n -> !n.contains("@") && !n.contains(" "))
                        .toList(),
                List.of(),
                CrtShRow.parseUtc(row.notBefore()),
                CrtShRow.parseUtc(row.notAfter()),
                false,
                null,
                null,
                null);
    }

    private void count(String outcome) {
        metrics.counter("ctwatch.dedup.rows", "outcome", outcome).increment();
    }
}
