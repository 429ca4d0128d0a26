package dev.ctwatch.dedup;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.EventJson;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The queue of backfill rows whose certificate is still to be downloaded ({@code backfill_download})
 * and the issuance updates their late download leads to. Every method needs a transaction.
 */
@ApplicationScoped
public class BackfillStore {

    /** A queued row, leased to one run. */
    public record Due(long crtShId, String observedJson, int attempts) {
        CertificateObserved observed() {
            try {
                return EventJson.mapper().readValue(observedJson, CertificateObserved.class);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("queued backfill row " + crtShId + " no longer reads", e);
            }
        }
    }

    /** A stored issuance of one issuer and serial. */
    public record Stored(long id, String tbsSha256, String anomaly) {}

    @Inject
    EntityManager em;

    /** Queues a backfill row just recorded, in the transaction that recorded it. */
    public void queue(CertificateObserved observed) {
        String json;
        try {
            json = EventJson.mapper().writeValueAsString(observed);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an observed row that was just read must serialise", e);
        }
        em.createNativeQuery(
                        "insert into {h-schema}backfill_download (crtsh_id, observed) values (?1, ?2) on conflict do nothing")
                .setParameter(1, observed.row().id())
                .setParameter(2, json)
                .executeUpdate();
    }

    /**
     * Takes up to {@code limit} due rows, oldest first, and moves their next attempt a lease ahead,
     * so a second replica's run (or this one's after a crash) does not download them meanwhile.
     */
    @SuppressWarnings("unchecked")
    public List<Due> lease(Instant now, int limit, Duration lease) {
        List<Object[]> rows = em.createNativeQuery("""
                        update {h-schema}backfill_download set next_attempt_at = ?1
                        where crtsh_id in (select crtsh_id from {h-schema}backfill_download
                                           where next_attempt_at <= ?2
                                           order by next_attempt_at, crtsh_id limit ?3
                                           for update skip locked)
                        returning crtsh_id, observed, attempts
                        """)
                .setParameter(1, Timestamp.from(now.plus(lease)))
                .setParameter(2, Timestamp.from(now))
                .setParameter(3, limit)
                .getResultList();
        List<Due> due = new ArrayList<>();
        for (Object[] r : rows) {
            due.add(new Due(((Number) r[0]).longValue(), (String) r[1], ((Number) r[2]).intValue()));
        }
        // "returning" gives no order: keep the queue's
        due.sort((a, b) -> Long.compare(a.crtShId(), b.crtShId()));
        return due;
    }

    /** Gives a row back for a later run, after a failure that may pass. */
    public void defer(long crtShId, int attempts, Instant next, String error) {
        em.createNativeQuery("""
                        update {h-schema}backfill_download set attempts = ?1, next_attempt_at = ?2, last_error = ?3
                        where crtsh_id = ?4
                        """)
                .setParameter(1, attempts)
                .setParameter(2, Timestamp.from(next))
                .setParameter(3, error)
                .setParameter(4, crtShId)
                .executeUpdate();
    }

    /** Gives a row back for the next run, untried (the hot path wanted the limiter). */
    public void release(long crtShId, Instant now) {
        em.createNativeQuery("update {h-schema}backfill_download set next_attempt_at = ?1 where crtsh_id = ?2")
                .setParameter(1, Timestamp.from(now))
                .setParameter(2, crtShId)
                .executeUpdate();
    }

    public void remove(long crtShId) {
        em.createNativeQuery("delete from {h-schema}backfill_download where crtsh_id = ?1")
                .setParameter(1, crtShId)
                .executeUpdate();
    }

    public long waiting() {
        return ((Number) em.createNativeQuery("select count(*) from {h-schema}backfill_download")
                        .getSingleResult())
                .longValue();
    }

    /** The issuance a crt.sh id is linked to, or null when it is gone (retention). */
    public Long issuanceOf(long crtShId) {
        List<?> ids = em.createNativeQuery("select issuance_id from {h-schema}crtsh_entry where crtsh_id = ?1")
                .setParameter(1, crtShId)
                .getResultList();
        return ids.isEmpty() || ids.get(0) == null ? null : ((Number) ids.get(0)).longValue();
    }

    /**
     * Every issuance of this issuer and serial, locked until the transaction ends: two completions of
     * one serial never decide on the same stale picture.
     */
    @SuppressWarnings("unchecked")
    public List<Stored> lockIssuances(long issuerCaId, String serialHex) {
        List<Object[]> rows = em.createNativeQuery("""
                        select id, tbs_sha256, anomaly from {h-schema}issuance
                        where issuer_ca_id = ?1 and serial_hex = ?2 order by id for update
                        """)
                .setParameter(1, issuerCaId)
                .setParameter(2, serialHex)
                .getResultList();
        return rows.stream()
                .map(r -> new Stored(((Number) r[0]).longValue(), (String) r[1], (String) r[2]))
                .toList();
    }

    /** Fills in an issuance recorded from rows alone with what its certificate says. */
    public void fill(long issuanceId, CertificateIdentity id, String anomaly) {
        em.createNativeQuery("""
                        update {h-schema}issuance set tbs_sha256 = ?1, issuer_dn = ?2, subject_dn = ?3,
                               sha256_fingerprint = ?4, authority_key_id = ?5, precertificate = ?6,
                               not_before = ?7, not_after = ?8, downloaded = true, anomaly = coalesce(?9, anomaly)
                        where id = ?10
                        """)
                .setParameter(1, id.tbsSha256())
                .setParameter(2, id.issuerDn())
                .setParameter(3, id.subjectDn())
                .setParameter(4, id.sha256Fingerprint())
                .setParameter(5, id.authorityKeyId())
                .setParameter(6, id.precertificate())
                .setParameter(7, Timestamp.from(id.notBefore()))
                .setParameter(8, Timestamp.from(id.notAfter()))
                .setParameter(9, anomaly)
                .setParameter(10, issuanceId)
                .executeUpdate();
    }

    /** Moves every crt.sh id of one issuance to another and deletes the emptied one. */
    public void merge(long from, long into) {
        em.createNativeQuery("update {h-schema}crtsh_entry set issuance_id = ?1 where issuance_id = ?2")
                .setParameter(1, into)
                .setParameter(2, from)
                .executeUpdate();
        em.createNativeQuery("delete from {h-schema}issuance where id = ?1")
                .setParameter(1, from)
                .executeUpdate();
    }

    /** Flags an issuance without changing what is known about it. */
    public void flag(long issuanceId, String anomaly) {
        em.createNativeQuery("update {h-schema}issuance set anomaly = coalesce(anomaly, ?1) where id = ?2")
                .setParameter(1, anomaly)
                .setParameter(2, issuanceId)
                .executeUpdate();
    }

    /** The crt.sh ids of an issuance, ascending. */
    @SuppressWarnings("unchecked")
    public List<Long> crtShIds(long issuanceId) {
        return ((List<Number>) em.createNativeQuery(
                                "select crtsh_id from {h-schema}crtsh_entry where issuance_id = ?1 order by crtsh_id")
                        .setParameter(1, issuanceId)
                        .getResultList())
                .stream().map(Number::longValue).toList();
    }
}
