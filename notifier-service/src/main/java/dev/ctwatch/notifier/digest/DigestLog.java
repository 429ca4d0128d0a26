package dev.ctwatch.notifier.digest;

import dev.ctwatch.notifier.delivery.Planner.DigestItem;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import jakarta.transaction.Transactional.TxType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Certificates collected for digests, per route and watch entry. An item is written once (a
 * redelivered record adds nothing) and marked with its digest's key when the digest is sent, in the
 * transaction that writes the digest's deliveries.
 */
@ApplicationScoped
public class DigestLog {
    private static final String ADD = "INSERT INTO {h-schema}digest_item"
            + " (route, watch_entry, issuance_key, reason, event) VALUES (:route, :entry, :key, :reason, :event)"
            + " ON CONFLICT (route, watch_entry, issuance_key) DO NOTHING";

    private static final String DUE = "SELECT route, watch_entry FROM {h-schema}digest_item WHERE digest_key IS NULL"
            + " GROUP BY route, watch_entry HAVING min(added_at) <= now() - cast(:windowMs as double precision) * interval '1 millisecond'"
            + " LIMIT 100";

    private static final String TAKE = "SELECT issuance_key, reason, event FROM {h-schema}digest_item"
            + " WHERE route = :route AND watch_entry = :entry AND digest_key IS NULL"
            + " ORDER BY added_at, issuance_key FOR UPDATE SKIP LOCKED";

    private static final String ASSIGN = "UPDATE {h-schema}digest_item SET digest_key = :digest"
            + " WHERE route = :route AND watch_entry = :entry AND issuance_key IN (:keys)";

    private static final String EVENTS = "SELECT issuance_key, event FROM {h-schema}digest_item"
            + " WHERE route = :route AND digest_key = :digest ORDER BY added_at, issuance_key";

    public record Group(String route, String watchEntry) {}

    public record Item(String issuanceKey, Digest.Reason reason, String event) {}

    @Inject
    EntityManager em;

    /** Adds items in the caller's transaction; returns those that were new (not a redelivery). */
    @Transactional(TxType.MANDATORY)
    public List<DigestItem> add(List<DigestItem> items) {
        List<DigestItem> added = new ArrayList<>();
        for (DigestItem item : items) {
            int rows = em.createNativeQuery(ADD)
                    .setParameter("route", item.route())
                    .setParameter("entry", item.watchEntry())
                    .setParameter("key", item.issuanceKey())
                    .setParameter("reason", item.reason().name())
                    .setParameter("event", item.event())
                    .executeUpdate();
            if (rows > 0) {
                added.add(item);
            }
        }
        return added;
    }

    /** Groups whose oldest open item is older than the window. */
    @Transactional(TxType.REQUIRED)
    public List<Group> due(Duration window) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(DUE)
                .setParameter("windowMs", window.toMillis())
                .getResultList();
        return rows.stream().map(r -> new Group((String) r[0], (String) r[1])).toList();
    }

    /** Locks and returns the open items of a group until the caller's transaction ends. */
    @Transactional(TxType.MANDATORY)
    public List<Item> take(Group group) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(TAKE)
                .setParameter("route", group.route())
                .setParameter("entry", group.watchEntry())
                .getResultList();
        return rows.stream()
                .map(r -> new Item((String) r[0], Digest.Reason.valueOf((String) r[1]), (String) r[2]))
                .toList();
    }

    @Transactional(TxType.MANDATORY)
    public void assign(Group group, List<String> issuanceKeys, String digestKey) {
        em.createNativeQuery(ASSIGN)
                .setParameter("digest", digestKey)
                .setParameter("route", group.route())
                .setParameter("entry", group.watchEntry())
                .setParameter("keys", issuanceKeys)
                .executeUpdate();
    }

    /** The events of a sent digest as (issuance key, event JSON), for the dead-letter topic. */
    @Transactional(TxType.MANDATORY)
    public List<Item> events(String route, String digestKey) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(EVENTS)
                .setParameter("route", route)
                .setParameter("digest", digestKey)
                .getResultList();
        return rows.stream()
                .map(r -> new Item((String) r[0], null, (String) r[1]))
                .toList();
    }
}
