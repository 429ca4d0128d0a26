package dev.ctwatch.caa.policy;

import dev.ctwatch.caa.dns.CaaProperty;
import java.time.Instant;
import java.util.List;

/**
 * The outcome of the climb for one name (RFC 8659 §3): the first non-empty CAA record set, none up
 * to the TLD, or a failure that stopped the climb.
 *
 * @param queriedName the name the climb started from ({@code x} for {@code *.x})
 * @param owner the level where the climb stopped (records found or lookup failed), null for NONE
 * @param recordsOwner owner of the records when they were reached through an alias, else null
 * @param observedAt when the oldest answer used came from DNS
 */
public record RelevantSet(
        String queriedName,
        Kind kind,
        String owner,
        String recordsOwner,
        List<CaaProperty> records,
        Long ttlSeconds,
        Instant observedAt,
        String detail) {

    public enum Kind {
        /** A non-empty set was found at {@code owner}. */
        RECORDS,
        /** No CAA record from the name up to the TLD: anyone may issue. */
        NONE,
        /** A lookup at or below the first non-empty level failed. */
        ERROR
    }

    public RelevantSet {
        records = records == null ? List.of() : List.copyOf(records);
    }

    /** The records in presentation form, e.g. {@code 0 issue "letsencrypt.org"}. */
    public List<String> presentation() {
        return records.stream().map(CaaProperty::presentation).toList();
    }
}
