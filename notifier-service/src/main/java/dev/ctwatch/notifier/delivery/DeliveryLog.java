package dev.ctwatch.notifier.delivery;

import dev.ctwatch.notifier.delivery.Planner.Pending;
import dev.ctwatch.notifier.render.WebhookRenderer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;
import jakarta.transaction.Transactional;
import jakarta.transaction.Transactional.TxType;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The delivery log: one row per (issuance key, route, channel, recipient), written when the Kafka
 * record is taken in, sent by the {@link Dispatcher}. It is both the exactly-once record and the
 * persisted retry queue ({@code next_attempt_at}), so a retry survives restarts and a failing
 * channel never holds up the Kafka consumer.
 *
 * <p>{@link #claimNext()} locks one due row ({@code FOR UPDATE SKIP LOCKED}) in the dispatcher's
 * transaction; the send happens under that lock and the outcome is written before the commit, so
 * two replicas never send the same row. The one double-send window: the receiver accepted the
 * message, then the process dies (or loses the database) before the commit; the row is still due
 * and is sent again. Mail has no idempotency key; webhooks get {@code Idempotency-Key} so a
 * receiver can drop the repeat; Slack cannot.
 */
@ApplicationScoped
public class DeliveryLog {
    static final int MAX_ERROR_LENGTH = 1000;

    // {h-schema} is Hibernate's default schema (notifier), as in the entity mapping.
    private static final String ENQUEUE = "INSERT INTO {h-schema}delivery AS d"
            + " (issuance_key, route, channel, recipient, status, attempts, first_attempt_at, next_attempt_at,"
            + " payload, event)"
            + " VALUES (:key, :route, :channel, :recipient, 'PENDING', 0, now(), now(), :payload, :event)"
            + " ON CONFLICT (issuance_key, route, channel, recipient) DO UPDATE"
            // a FAILED row of schema version 1 has no payload: the redelivered record supplies it
            + " SET payload = excluded.payload, event = excluded.event, next_attempt_at = now()"
            + " WHERE d.payload IS NULL AND d.status = 'FAILED'";

    private static final String CLAIM = "SELECT issuance_key, route, channel, recipient, attempts, payload, event"
            + " FROM {h-schema}delivery"
            + " WHERE status IN ('PENDING', 'FAILED') AND next_attempt_at <= now() AND payload IS NOT NULL"
            + " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED";

    private static final String KEY =
            " WHERE issuance_key = :key AND route = :route AND channel = :channel AND recipient = :recipient";

    private static final String SENT = "UPDATE {h-schema}delivery SET status = 'SENT', attempts = attempts + 1,"
            + " delivered_at = now(), next_attempt_at = NULL, last_error = NULL" + KEY;

    private static final String FAILED = "UPDATE {h-schema}delivery SET status = 'FAILED', attempts = attempts + 1,"
            + " last_error = :error, next_attempt_at = now() + cast(:delayMs as double precision) * interval '1 millisecond'"
            + KEY;

    private static final String DEAD = "UPDATE {h-schema}delivery SET status = 'DEAD', attempts = attempts + 1,"
            + " last_error = :error, next_attempt_at = NULL" + KEY;

    private static final String POSTPONE = "UPDATE {h-schema}delivery"
            + " SET next_attempt_at = now() + cast(:delayMs as double precision) * interval '1 millisecond'" + KEY;

    /** A due delivery, locked by the caller's transaction. */
    public record Due(
            String key, String route, String channel, String recipient, int attempts, String payload, String event) {}

    @Inject
    EntityManager em;

    /**
     * Writes the rows of one record in the caller's transaction; returns those that existed already
     * (a redelivered record), which are left as they are.
     */
    @Transactional(TxType.MANDATORY)
    public List<Pending> enqueue(List<Pending> deliveries) {
        return deliveries.stream().filter(p -> !enqueue(p)).toList();
    }

    private boolean enqueue(Pending p) {
        return em.createNativeQuery(ENQUEUE)
                        .setParameter("key", p.key())
                        .setParameter("route", p.route())
                        .setParameter("channel", p.channel())
                        .setParameter("recipient", p.recipient())
                        .setParameter("payload", WebhookRenderer.write(p.message()))
                        .setParameter("event", p.event())
                        .executeUpdate()
                > 0;
    }

    /** Locks the most overdue deliverable row, if any, until the caller's transaction ends. */
    @Transactional(TxType.MANDATORY)
    public Optional<Due> claimNext() {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(CLAIM).getResultList();
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        Object[] r = rows.get(0);
        return Optional.of(new Due(
                (String) r[0],
                (String) r[1],
                (String) r[2],
                (String) r[3],
                ((Number) r[4]).intValue(),
                (String) r[5],
                (String) r[6]));
    }

    @Transactional(TxType.MANDATORY)
    public void markSent(Due due) {
        keyed(em.createNativeQuery(SENT), due).executeUpdate();
    }

    /** A failed attempt; the dispatcher tries again after {@code delay}. */
    @Transactional(TxType.MANDATORY)
    public void markFailed(Due due, String error, Duration delay) {
        keyed(em.createNativeQuery(FAILED), due)
                .setParameter("error", cut(error))
                .setParameter("delayMs", delay.toMillis())
                .executeUpdate();
    }

    /** Given up: dead-lettered, never tried again. */
    @Transactional(TxType.MANDATORY)
    public void markDead(Due due, String error) {
        keyed(em.createNativeQuery(DEAD), due).setParameter("error", cut(error)).executeUpdate();
    }

    /** Not attempted (the destination is rate-limited): due again after {@code delay}, no attempt counted. */
    @Transactional(TxType.MANDATORY)
    public void postpone(Due due, Duration delay) {
        keyed(em.createNativeQuery(POSTPONE), due)
                .setParameter("delayMs", delay.toMillis())
                .executeUpdate();
    }

    /** The row of one delivery, if any. */
    @Transactional(TxType.SUPPORTS)
    public Optional<Delivery> find(String issuanceKey, String route, String channel, String recipient) {
        return Optional.ofNullable(em.find(Delivery.class, new Delivery.Key(issuanceKey, route, channel, recipient)));
    }

    private static Query keyed(Query query, Due due) {
        return query.setParameter("key", due.key())
                .setParameter("route", due.route())
                .setParameter("channel", due.channel())
                .setParameter("recipient", due.recipient());
    }

    static String cut(String error) {
        String text = error == null ? "unknown error" : error;
        return text.length() > MAX_ERROR_LENGTH ? text.substring(0, MAX_ERROR_LENGTH) + "… (cut)" : text;
    }
}
