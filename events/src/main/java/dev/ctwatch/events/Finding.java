package dev.ctwatch.events;

import java.util.List;

/**
 * A possible CAA non-compliance: the certificate's issuer was not authorised for some names when we
 * looked. The audit runs after issuance, so it is evidence, never proof.
 */
public record Finding(
        String summary, Evidence evidence, List<String> forbiddenNames, List<String> issuerCaaIdentities) {
    public Finding {
        forbiddenNames = forbiddenNames == null ? List.of() : List.copyOf(forbiddenNames);
        issuerCaaIdentities = issuerCaaIdentities == null ? List.of() : List.copyOf(issuerCaaIdentities);
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
