package dev.ctwatch.dedup;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.sql.Timestamp;
import java.util.List;

/**
 * The dedup tables. Every "first sighting" is one insert against a unique constraint, so two
 * consumers racing on one record cannot both see themselves first.
 */
@ApplicationScoped
public class IssuanceStore {

    @Inject
    EntityManager em;

    public boolean isKnown(long crtShId) {
        return !em.createNativeQuery("select 1 from {h-schema}crtsh_entry where crtsh_id = ?1")
                .setParameter(1, crtShId)
                .getResultList()
                .isEmpty();
    }

    /** Records a crt.sh id; false when it was already recorded. Needs a transaction. */
    public boolean claimCrtShId(long crtShId) {
        return em.createNativeQuery("insert into {h-schema}crtsh_entry (crtsh_id) values (?1) on conflict do nothing")
                        .setParameter(1, crtShId)
                        .executeUpdate()
                == 1;
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

    /** Inserts the issuance unless it exists; returns its id either way. */
    public long insertIssuance(long issuerCaId, String issuerName, CertificateIdentity id, Anomaly anomaly) {
        @SuppressWarnings("unchecked")
        List<Number> inserted = em.createNativeQuery("""
                        insert into {h-schema}issuance (issuer_ca_id, serial_hex, tbs_sha256, issuer_name, issuer_dn, subject_dn,
                                              dns_names, not_before, not_after, precertificate, sha256_fingerprint, anomaly)
                        values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                        on conflict on constraint issuance_identity do nothing
                        returning id
                        """)
                .setParameter(1, issuerCaId)
                .setParameter(2, id.serialHex())
                .setParameter(3, id.tbsSha256())
                .setParameter(4, issuerName == null ? "" : issuerName)
                .setParameter(5, id.issuerDn())
                .setParameter(6, id.subjectDn())
                .setParameter(7, String.join("\n", id.dnsNames()))
                .setParameter(8, Timestamp.from(id.notBefore()))
                .setParameter(9, Timestamp.from(id.notAfter()))
                .setParameter(10, id.precertificate())
                .setParameter(11, id.sha256Fingerprint())
                .setParameter(12, anomaly == null ? null : anomaly.kind().name())
                .getResultList();
        if (!inserted.isEmpty()) {
            return inserted.get(0).longValue();
        }
        return ((Number) em.createNativeQuery(
                                "select id from {h-schema}issuance where issuer_ca_id = ?1 and serial_hex = ?2 and tbs_sha256 = ?3")
                        .setParameter(1, issuerCaId)
                        .setParameter(2, id.serialHex())
                        .setParameter(3, id.tbsSha256())
                        .getSingleResult())
                .longValue();
    }

    public void linkCrtShId(long crtShId, long issuanceId) {
        em.createNativeQuery("update {h-schema}crtsh_entry set issuance_id = ?1 where crtsh_id = ?2")
                .setParameter(1, issuanceId)
                .setParameter(2, crtShId)
                .executeUpdate();
    }
}
