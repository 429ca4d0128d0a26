package dev.ctwatch.caa.history;

import dev.ctwatch.caa.CaaAuditConfig;
import dev.ctwatch.caa.policy.RelevantSet;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/** The stored CAA observations and the set of watched names (schema {@code caa_audit}). */
@ApplicationScoped
public class CaaHistory {
    private final EntityManager em;
    private final Duration maxGap;

    public CaaHistory(EntityManager em, CaaAuditConfig config) {
        this.em = em;
        this.maxGap = config.history().maxGap();
    }

    /**
     * Stores what the climbs saw: last_seen moves on while the answer stays the same and we keep
     * looking; a changed answer, or the same one after a gap, starts a new row.
     */
    @Transactional
    public void record(Collection<RelevantSet> sets) {
        for (RelevantSet set : sets) {
            // one writer per name across replicas, so "latest row" stays the latest
            em.createNativeQuery("select count(*) from (select pg_advisory_xact_lock(hashtext(:name))) l")
                    .setParameter("name", set.queriedName())
                    .getSingleResult();
            String records =
                    String.join("\n", set.presentation().stream().sorted().toList());
            CaaObservation latest = CaaObservation.<CaaObservation>find(
                            "queriedName = ?1 order by lastSeen desc", set.queriedName())
                    .firstResult();
            Instant at = set.observedAt();
            if (latest != null
                    && latest.status.equals(set.kind().name())
                    && Objects.equals(latest.relevantOwner, set.owner())
                    && latest.records.equals(records)
                    && !at.isAfter(latest.lastSeen.plus(maxGap))) {
                if (at.isAfter(latest.lastSeen)) {
                    latest.lastSeen = at;
                }
                if (set.ttlSeconds() != null && (latest.ttlSeconds == null || set.ttlSeconds() > latest.ttlSeconds)) {
                    latest.ttlSeconds = set.ttlSeconds();
                }
                continue;
            }
            CaaObservation row = new CaaObservation();
            row.queriedName = set.queriedName();
            row.status = set.kind().name();
            row.relevantOwner = set.owner();
            row.records = records;
            row.ttlSeconds = set.ttlSeconds();
            row.detail = set.detail();
            row.observedAt = at;
            row.lastSeen = at;
            row.persist();
        }
    }

    /** Adds names (without {@code *.}) to the watched set, or marks them seen again. */
    @Transactional
    public void watch(Collection<String> names, Instant at) {
        for (String name : names) {
            em.createNativeQuery("insert into {h-schema}watched_name (name, first_seen, last_certificate_at)"
                            + " values (:name, :at, :at)"
                            + " on conflict (name) do update set last_certificate_at ="
                            + " greatest(watched_name.last_certificate_at, excluded.last_certificate_at)")
                    .setParameter("name", name)
                    .setParameter("at", at)
                    .executeUpdate();
        }
    }

    /** Names seen in a certificate since {@code since}. */
    @Transactional
    @SuppressWarnings("unchecked")
    public List<String> watchedNames(Instant since) {
        return em.createNativeQuery("select name from {h-schema}watched_name where last_certificate_at >= :since"
                        + " order by name")
                .setParameter("since", since)
                .getResultList();
    }

    /** Observations of a name that reach into [from, to], oldest first. */
    @Transactional
    public List<EvidenceGrader.Observation> observations(String name, Instant from, Instant to) {
        return CaaObservation.<CaaObservation>find(
                        "queriedName = ?1 and lastSeen >= ?2 and observedAt <= ?3 order by observedAt", name, from, to)
                .stream()
                .map(CaaObservation::toObservation)
                .toList();
    }

    /** The newest stored observations of a name, newest first. */
    @Transactional
    public List<CaaObservation> history(String name, int limit) {
        return CaaObservation.<CaaObservation>find("queriedName = ?1 order by lastSeen desc, id desc", name)
                .page(0, limit)
                .list();
    }
}
