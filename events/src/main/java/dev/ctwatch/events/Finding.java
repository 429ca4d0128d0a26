package dev.ctwatch.events;

import java.time.Instant;
import java.util.List;

/**
 * A possible CAA non-compliance: the certificate's issuer was not authorised for some names when we
 * looked. The audit runs after issuance, so it is evidence, never proof.
 *
 * @param evidenceWindowStart start of the window in which the CA may have checked CAA (notBefore
 *     minus the larger of 8 hours and the records' TTL), or null when unknown (added in v1.1)
 * @param evidenceWindowEnd end of that window (the audit), or null when unknown (added in v1.1)
 */
public record Finding(
        String summary,
        Evidence evidence,
        List<String> forbiddenNames,
        List<String> issuerCaaIdentities,
        Instant evidenceWindowStart,
        Instant evidenceWindowEnd) {
    public Finding {
        forbiddenNames = forbiddenNames == null ? List.of() : List.copyOf(forbiddenNames);
        issuerCaaIdentities = issuerCaaIdentities == null ? List.of() : List.copyOf(issuerCaaIdentities);
    }

    /** A finding without an evidence window (the v1.0 shape). */
    public Finding(String summary, Evidence evidence, List<String> forbiddenNames, List<String> issuerCaaIdentities) {
        this(summary, evidence, forbiddenNames, issuerCaaIdentities, null, null);
    }

    public enum Evidence {
        /** Seen once, at audit time. */
        OBSERVED,
        /** Our own CAA history covers the evidence window and never authorised the issuer. */
        SUSTAINED,
        /** Corroborated by an independent source. */
        CORROBORATED
    }
}
