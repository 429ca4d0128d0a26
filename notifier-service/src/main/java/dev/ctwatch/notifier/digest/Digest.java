package dev.ctwatch.notifier.digest;

import dev.ctwatch.events.CertificateAudited;
import java.util.List;
import java.util.Set;

/**
 * New certificates of one route and watch entry, sent as one message.
 *
 * @param key the delivery-log key of the digest ({@code digest:<entry>:<first issuance key>})
 * @param reasons why they were collected: a backfill, a flood, or both
 */
public record Digest(
        String key, String route, String watchEntry, List<CertificateAudited> certificates, Set<Reason> reasons) {

    public enum Reason {
        /** First poll of a newly added watch entry. */
        BACKFILL,
        /** The route's flood limit was reached. */
        FLOOD
    }

    public Digest {
        certificates = List.copyOf(certificates);
        reasons = Set.copyOf(reasons);
    }

    public static String key(String watchEntry, String firstIssuanceKey) {
        return "digest:" + watchEntry + ":" + firstIssuanceKey;
    }

    public int size() {
        return certificates.size();
    }

    /** What happened, in one line. */
    public String headline() {
        String entry = watchEntry.isEmpty() ? "watched domains" : watchEntry;
        return reasons.contains(Reason.FLOOD)
                ? size() + " new certificates for " + entry + " (flood digest)"
                : size() + " certificates for newly watched " + entry + " (backfill digest)";
    }

    public String explanation() {
        return reasons.contains(Reason.FLOOD)
                ? "More new certificates than the route's flood limit per minute: they are listed here together."
                        + " Findings and anomalies are still sent one by one."
                : "The first poll of a newly added watch entry found these certificates already logged."
                        + " Findings and anomalies among them are sent one by one.";
    }
}
