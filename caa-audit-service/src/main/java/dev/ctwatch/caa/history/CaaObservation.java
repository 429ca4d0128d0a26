package dev.ctwatch.caa.history;

import dev.ctwatch.caa.dns.CaaProperty;
import dev.ctwatch.caa.policy.RelevantSet;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/** One stored CAA answer for a name, seen from {@code observedAt} to {@code lastSeen}. */
@Entity
@Table(name = "caa_observation")
public class CaaObservation extends PanacheEntityBase {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "queried_name", nullable = false)
    public String queriedName;

    @Column(nullable = false)
    public String status;

    @Column(name = "relevant_owner")
    public String relevantOwner;

    /** Presentation form, one record per line (presentation escapes control characters). */
    @Column(nullable = false)
    public String records;

    @Column(name = "ttl_seconds")
    public Long ttlSeconds;

    public String detail;

    @Column(name = "observed_at", nullable = false)
    public Instant observedAt;

    @Column(name = "last_seen", nullable = false)
    public Instant lastSeen;

    public List<String> recordList() {
        return records.isEmpty() ? List.of() : Arrays.asList(records.split("\n"));
    }

    EvidenceGrader.Observation toObservation() {
        return new EvidenceGrader.Observation(
                queriedName,
                RelevantSet.Kind.valueOf(status),
                relevantOwner,
                recordList().stream().map(CaaProperty::parsePresentation).toList(),
                ttlSeconds,
                observedAt,
                lastSeen);
    }
}
