package dev.ctwatch.events;

import java.time.Instant;
import java.util.List;

/**
 * Payload of {@value Topics#CERTIFICATES_AUDITED}: the discovered certificate, the CAA result of
 * each of its DNS names, the verdict and, for {@link CaaVerdict#POSSIBLE_NON_COMPLIANCE}, a finding.
 *
 * @param issuerCaaIdentities CAA identities of the issuing CA; empty when unknown
 */
public record CertificateAudited(
        CertificateDiscovered certificate,
        List<String> issuerCaaIdentities,
        List<NameAudit> names,
        CaaVerdict verdict,
        Finding finding,
        Instant auditedAt) {
    public CertificateAudited {
        issuerCaaIdentities = issuerCaaIdentities == null ? List.of() : List.copyOf(issuerCaaIdentities);
        names = names == null ? List.of() : List.copyOf(names);
    }
}
