package dev.ctwatch.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

/**
 * One row of crt.sh's JSON answer, with crt.sh's own field names and spellings: timestamps are
 * UTC without a zone suffix, the serial is crt.sh's hex. Fields crt.sh did not send are null.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CrtShRow(
        @JsonProperty("id") Long id,
        @JsonProperty("issuer_ca_id") Long issuerCaId,
        @JsonProperty("issuer_name") String issuerName,
        @JsonProperty("common_name") String commonName,
        @JsonProperty("name_value") String nameValue,
        @JsonProperty("entry_timestamp") String entryTimestamp,
        @JsonProperty("not_before") String notBefore,
        @JsonProperty("not_after") String notAfter,
        @JsonProperty("serial_number") String serialNumber,
        @JsonProperty("result_count") Integer resultCount) {

    /** The names crt.sh matched, one per line of {@code name_value}. */
    @JsonIgnore
    public List<String> names() {
        if (nameValue == null || nameValue.isBlank()) {
            return List.of();
        }
        return Arrays.stream(nameValue.split("\n"))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .distinct()
                .toList();
    }

    /** The issuance key, or null when crt.sh sent no issuer id or serial. */
    @JsonIgnore
    public IssuanceKey issuanceKey() {
        if (issuerCaId == null || serialNumber == null || serialNumber.isBlank()) {
            return null;
        }
        return IssuanceKey.of(issuerCaId, serialNumber);
    }

    /** crt.sh timestamps are UTC without a zone suffix and with 0 to 6 fraction digits. */
    public static Instant parseUtc(String crtShTimestamp) {
        return crtShTimestamp == null
                ? null
                : LocalDateTime.parse(crtShTimestamp).toInstant(ZoneOffset.UTC);
    }
}
