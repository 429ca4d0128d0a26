package dev.ctwatch.events;

import java.time.Instant;
import java.util.List;

/**
 * Payload of {@value Topics#CERTIFICATES_OBSERVED}: a crt.sh row as crt.sh sent it, the watch
 * entries it matched, when it was fetched, and whether it came from the first poll of an entry.
 */
public record CertificateObserved(CrtShRow row, List<WatchMatch> matches, Instant fetchedAt, boolean backfill) {
    public CertificateObserved {
        matches = matches == null ? List.of() : List.copyOf(matches);
    }
}
