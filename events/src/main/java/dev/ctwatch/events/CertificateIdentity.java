package dev.ctwatch.events;

import java.time.Instant;
import java.util.List;

/**
 * What the certificate itself says, parsed from its DER (never from crt.sh's row).
 *
 * @param serialHex serial as lowercase hex, no leading zeros
 * @param tbsSha256 SHA-256 of the TBSCertificate without the CT poison and SCT-list extensions,
 *     equal for a precertificate and its final certificate (lowercase hex)
 * @param sha256Fingerprint SHA-256 of the DER (lowercase hex)
 * @param authorityKeyId the Authority Key Identifier (lowercase hex), or null
 */
public record CertificateIdentity(
        String serialHex,
        String issuerDn,
        String subjectDn,
        List<String> dnsNames,
        List<String> ipAddresses,
        Instant notBefore,
        Instant notAfter,
        boolean precertificate,
        String tbsSha256,
        String sha256Fingerprint,
        String authorityKeyId) {
    public CertificateIdentity {
        dnsNames = dnsNames == null ? List.of() : List.copyOf(dnsNames);
        ipAddresses = ipAddresses == null ? List.of() : List.copyOf(ipAddresses);
    }
}
