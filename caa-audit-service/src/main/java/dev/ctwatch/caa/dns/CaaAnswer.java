package dev.ctwatch.caa.dns;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The answer to one CAA query for one name, aliases followed.
 *
 * @param name the name queried
 * @param owner owner of the records (the alias target when the name is an alias), or null
 * @param ttlSeconds smallest TTL of the records and aliases; for an empty answer the negative TTL
 *     (SOA minimum); null when unknown or for an error
 * @param detail NXDOMAIN / NODATA for an empty answer, the failure for an error, the alias chain
 * @param fetchedAt when the answer came from DNS (a cached answer keeps it)
 */
public record CaaAnswer(
        Status status,
        String name,
        String owner,
        List<CaaProperty> records,
        Long ttlSeconds,
        String detail,
        Instant fetchedAt) {

    public enum Status {
        /** NOERROR with CAA records. */
        RECORDS,
        /** NXDOMAIN or NODATA: the climb goes on. */
        EMPTY,
        /** The lookup failed (SERVFAIL, REFUSED, timeout, referral, alias loop...): never "no records". */
        ERROR
    }

    public CaaAnswer {
        Objects.requireNonNull(status, "status");
        records = records == null ? List.of() : List.copyOf(records);
        if (status == Status.RECORDS && records.isEmpty()) {
            throw new IllegalArgumentException("a RECORDS answer needs records");
        }
    }

    public static CaaAnswer records(
            String name, String owner, List<CaaProperty> records, long ttl, String detail, Instant fetchedAt) {
        return new CaaAnswer(Status.RECORDS, name, owner, records, ttl, detail, fetchedAt);
    }

    public static CaaAnswer empty(String name, Long negativeTtl, String detail, Instant fetchedAt) {
        return new CaaAnswer(Status.EMPTY, name, null, List.of(), negativeTtl, detail, fetchedAt);
    }

    public static CaaAnswer error(String name, String detail, Instant fetchedAt) {
        return new CaaAnswer(Status.ERROR, name, null, List.of(), null, detail, fetchedAt);
    }
}
