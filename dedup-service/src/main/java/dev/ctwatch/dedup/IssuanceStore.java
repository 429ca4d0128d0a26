package dev.ctwatch.dedup;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.sql.Timestamp;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The dedup tables. Every "first sighting" is one insert against a unique constraint, so two
 * consumers racing on one record cannot both see themselves first.
 */
@ApplicationScoped
public class IssuanceStore {

    @Inject
    EntityManager em;

    /** Which of these crt.sh ids are already recorded: one query for a whole batch. */
    @SuppressWarnings("unchecked")
    public Set<Long> knownIds(Collection<Long> crtShIds) {
        if (crtShIds.isEmpty()) {
            return Set.of();
        }
        List<Number> known = em.createNativeQuery(
                        "select crtsh_id from {h-schema}crtsh_entry where crtsh_id = any(cast(?1 as bigint[]))")
                .setParameter(1, crtShIds.toArray(Long[]::new))
                .getResultList();
        Set<Long> ids = new HashSet<>();
        for (Number n : known) {
            ids.add(n.longValue());
        }
        return ids;
    }

    /** Records a crt.sh id; false when it was already recorded. Needs a transaction. */
    public boolean claimCrtShId(long crtShId) {
        return em.createNativeQuery("insert into {h-schema}crtsh_entry (crtsh_id) values (?1) on conflict do nothing")
                        .setParameter(1, crtShId)
                        .executeUpdate()
                == 1;
    }

    /**
     * Holds off every other transaction deciding about this issuer and serial until this one ends.
     * Row locks cannot do it: before the first certificate of a serial is stored there is no row, so
     * two instances downloading two certificates of one serial during a rebalance would both find
     * none and store both as new, and the serial reuse would go unflagged.
     */
    public void lockSerial(long issuerCaId, String serialHex) {
        // a transaction-scoped advisory lock, keyed by a 64-bit hash; a collision only makes two serials wait
        em.createNativeQuery("select 1 from pg_advisory_xact_lock(hashtextextended(?1, ?2))")
                .setParameter(1, serialHex)
                .setParameter(2, issuerCaId)
                .getSingleResult();
    }

    /** TBS hashes already stored for this issuer and serial. */
    @SuppressWarnings("unchecked")
    public List<String> tbsHashes(long issuerCaId, String serialHex) {
        return em.createNativeQuery(
                        "select tbs_sha256 from {h-schema}issuance where issuer_ca_id = ?1 and serial_hex = ?2 order by id")
                .setParameter(1, issuerCaId)
                .setParameter(2, serialHex)
                .getResultList();
    }

    /**
     * Inserts the issuance unless it exists; returns its id either way. An issuance recorded from
     * crt.sh's row alone ({@code downloaded} false, backfill) has no TBS hash: it is stored as
     * {@link IssuanceDecision#UNKNOWN_TBS}.
     */
    public long insertIssuance(
            long issuerCaId, String issuerName, CertificateIdentity id, Anomaly anomaly, boolean downloaded) {
        return storeIssuance(issuerCaId, issuerName, id, anomaly, downloaded).id();
    }

    /** An issuance row, and whether this statement created it (false: another transaction had). */
    public record Stored(long id, boolean created) {}

    /**
     * Inserts the issuance unless its (issuer, serial, TBS hash) exists: one statement against the
     * unique constraint, so of two instances racing on the twins of one issuance only one creates it.
     */
    public Stored storeIssuance(
            long issuerCaId, String issuerName, CertificateIdentity id, Anomaly anomaly, boolean downloaded) {
        @SuppressWarnings("unchecked")
        List<Number> inserted = em.createNativeQuery("""
                        insert into {h-schema}issuance (issuer_ca_id, serial_hex, tbs_sha256, issuer_name, issuer_dn, subject_dn,
                                              dns_names, not_before, not_after, precertificate, sha256_fingerprint, anomaly,
                                              downloaded, authority_key_id)
                        values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                        on conflict on constraint issuance_identity do nothing
                        returning id
                        """)
                .setParameter(1, issuerCaId)
                .setParameter(2, id.serialHex())
                .setParameter(3, id.tbsSha256() == null ? IssuanceDecision.UNKNOWN_TBS : id.tbsSha256())
                .setParameter(4, issuerName == null ? "" : issuerName)
                .setParameter(5, id.issuerDn())
                .setParameter(6, id.subjectDn())
                .setParameter(7, String.join("\n", id.dnsNames()))
                .setParameter(8, Timestamp.from(id.notBefore()))
                .setParameter(9, Timestamp.from(id.notAfter()))
                .setParameter(10, id.precertificate())
                .setParameter(11, id.sha256Fingerprint())
                .setParameter(12, anomaly == null ? null : anomaly.kind().name())
                .setParameter(13, downloaded)
                .setParameter(14, id.authorityKeyId())
                .getResultList();
        if (!inserted.isEmpty()) {
            return new Stored(inserted.get(0).longValue(), true);
        }
        return new Stored(
                ((Number) em.createNativeQuery(
                                        "select id from {h-schema}issuance where issuer_ca_id = ?1 and serial_hex = ?2 and tbs_sha256 = ?3")
                                .setParameter(1, issuerCaId)
                                .setParameter(2, id.serialHex())
                                .setParameter(3, id.tbsSha256() == null ? IssuanceDecision.UNKNOWN_TBS : id.tbsSha256())
                                .getSingleResult())
                        .longValue(),
                false);
    }

    public void linkCrtShId(long crtShId, long issuanceId) {
        em.createNativeQuery("update {h-schema}crtsh_entry set issuance_id = ?1 where crtsh_id = ?2")
                .setParameter(1, issuanceId)
                .setParameter(2, crtShId)
                .executeUpdate();
    }

    /** Fills in what a download told about an issuance first recorded from crt.sh's row. */
    public void completeBackfilled(long issuerCaId, CertificateIdentity id) {
        em.createNativeQuery("""
                        update {h-schema}issuance set tbs_sha256 = ?1, issuer_dn = ?2, subject_dn = ?3, sha256_fingerprint = ?4,
                               precertificate = ?5, authority_key_id = ?8, downloaded = true
                        where issuer_ca_id = ?6 and serial_hex = ?7 and tbs_sha256 = ''
                        """)
                .setParameter(1, id.tbsSha256())
                .setParameter(2, id.issuerDn())
                .setParameter(3, id.subjectDn())
                .setParameter(4, id.sha256Fingerprint())
                .setParameter(5, id.precertificate())
                .setParameter(6, issuerCaId)
                .setParameter(7, id.serialHex())
                .setParameter(8, id.authorityKeyId())
                .executeUpdate();
    }

    /** Deletes issuances (and, by cascade, their crt.sh ids) that expired before the cutoff. */
    public int deleteExpiredBefore(java.time.Instant cutoff) {
        return em.createNativeQuery("delete from {h-schema}issuance where not_after < ?1")
                .setParameter(1, Timestamp.from(cutoff))
                .executeUpdate();
    }
}
