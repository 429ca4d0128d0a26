package dev.ctwatch.events;

import java.time.Instant;
import java.util.List;

/**
 * Payload of {@value Topics#CERTIFICATES_DISCOVERED}: one issuance, emitted once.
 *
 * @param key issuance key, equal to the Kafka key
 * @param crtShIds crt.sh ids known for this issuance when it was emitted
 * @param issuerName issuer as crt.sh names it
 * @param derBase64 the certificate's DER, base64
 * @param anomaly null unless something is wrong with this issuance
 */
public record CertificateDiscovered(
        IssuanceKey key,
        List<Long> crtShIds,
        String issuerName,
        String derBase64,
        CertificateIdentity identity,
        List<WatchMatch> matches,
        boolean backfill,
        Anomaly anomaly,
        Instant discoveredAt) {
    public CertificateDiscovered {
        crtShIds = crtShIds == null ? List.of() : List.copyOf(crtShIds);
        matches = matches == null ? List.of() : List.copyOf(matches);
    }
}
