package dev.ctwatch.events;

import java.time.Instant;
import java.util.List;

/**
 * The CAA result for one DNS name of a certificate.
 *
 * @param relevantOwner the DNS name where the climb stopped, or null when no CAA exists up to the TLD
 * @param records the relevant records in presentation form, e.g. {@code 0 issue "letsencrypt.org"}
 * @param detail why, in words (the DNS error for ERROR)
 */
public record NameAudit(
        String name,
        CaaOutcome outcome,
        String relevantOwner,
        List<String> records,
        Long ttlSeconds,
        Instant checkedAt,
        String detail) {
    public NameAudit {
        records = records == null ? List.of() : List.copyOf(records);
    }
}
