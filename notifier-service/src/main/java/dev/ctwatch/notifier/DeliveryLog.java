package dev.ctwatch.notifier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import jakarta.transaction.Transactional.TxType;
import java.util.Optional;

/**
 * The delivery log: an effect of exactly once per (issuance key, channel, recipient).
 *
 * <p>{@link #claim} runs in the transaction that also sends: the row is inserted (or taken over
 * from a failed attempt) before the send, and a failed send throws, rolling the claim back so a
 * redelivery tries again. A concurrent claim of the same row blocks on the row lock until the
 * first transaction ends, so two consumers (e.g. during a rebalance) never both send.
 *
 * <p>The one double-send window: the SMTP server accepted the mail, then the process dies (or the
 * database is lost) before the commit. The claim is rolled back and the redelivered record sends
 * again. Mail has no idempotency key, so this window cannot be closed; it is as short as one commit.
 */
@ApplicationScoped
public class DeliveryLog {
    static final int MAX_ERROR_LENGTH = 1000;

    // {h-schema} is Hibernate's default schema (notifier), as in the entity mapping.
    private static final String CLAIM = "INSERT INTO {h-schema}delivery AS d"
            + " (issuance_key, channel, recipient, status, attempts, first_attempt_at, delivered_at)"
            + " VALUES (:key, :channel, :recipient, 'SENT', 1, now(), now())"
            + " ON CONFLICT (issuance_key, channel, recipient) DO UPDATE"
            + " SET status = 'SENT', attempts = d.attempts + 1, delivered_at = now(), last_error = NULL"
            + " WHERE d.status = 'FAILED'";

    private static final String FAILURE = "INSERT INTO {h-schema}delivery AS d"
            + " (issuance_key, channel, recipient, status, attempts, first_attempt_at, last_error)"
            + " VALUES (:key, :channel, :recipient, 'FAILED', 1, now(), :error)"
            + " ON CONFLICT (issuance_key, channel, recipient) DO UPDATE"
            + " SET attempts = d.attempts + 1, last_error = :error"
            + " WHERE d.status = 'FAILED'";

    @Inject
    EntityManager em;

    /**
     * Claims the delivery in the caller's transaction with one insert-if-absent. True: no delivery
     * yet (or only failed ones), the caller sends and commits. False: already delivered, skip.
     */
    @Transactional(TxType.MANDATORY)
    public boolean claim(String issuanceKey, String channel, String recipient) {
        return em.createNativeQuery(CLAIM)
                        .setParameter("key", issuanceKey)
                        .setParameter("channel", channel)
                        .setParameter("recipient", recipient)
                        .executeUpdate()
                > 0;
    }

    /**
     * Records a failed attempt in its own transaction, after the claim was rolled back; a row that is
     * already SENT is left alone.
     */
    @Transactional(TxType.REQUIRES_NEW)
    public void recordFailure(String issuanceKey, String channel, String recipient, String error) {
        String text = error == null ? "unknown error" : error;
        if (text.length() > MAX_ERROR_LENGTH) {
            text = text.substring(0, MAX_ERROR_LENGTH) + "… (cut)";
        }
        em.createNativeQuery(FAILURE)
                .setParameter("key", issuanceKey)
                .setParameter("channel", channel)
                .setParameter("recipient", recipient)
                .setParameter("error", text)
                .executeUpdate();
    }

    /** The row of one delivery, if any. */
    @Transactional(TxType.SUPPORTS)
    public Optional<Delivery> find(String issuanceKey, String channel, String recipient) {
        return Optional.ofNullable(em.find(Delivery.class, new Delivery.Key(issuanceKey, channel, recipient)));
    }
}
