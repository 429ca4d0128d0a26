package dev.ctwatch.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.math.BigInteger;
import java.util.Locale;
import java.util.Objects;

/**
 * Identity of one issuance: the crt.sh issuer id and the serial number as an integer. A
 * precertificate and its final certificate share it. Its text form {@code <issuer_ca_id>:<serial
 * as lowercase hex, no leading zeros>} is the Kafka key of every topic.
 */
public record IssuanceKey(long issuerCaId, BigInteger serial) {

    public IssuanceKey {
        Objects.requireNonNull(serial, "serial");
    }

    /**
     * Builds a key from a serial in any spelling seen in the wild: crt.sh's {@code 00}-prefixed
     * lowercase hex, openssl's uppercase, colon-separated, or {@code BigInteger.toString(16)}.
     */
    public static IssuanceKey of(long issuerCaId, String serialHex) {
        return new IssuanceKey(issuerCaId, parseSerial(serialHex));
    }

    public static BigInteger parseSerial(String serialHex) {
        Objects.requireNonNull(serialHex, "serial");
        String digits = serialHex.strip().replace(":", "").toLowerCase(Locale.ROOT);
        if (digits.startsWith("0x")) {
            digits = digits.substring(2);
        }
        if (digits.isEmpty() || !digits.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("not a hexadecimal serial number: '" + serialHex + "'");
        }
        return new BigInteger(digits, 16);
    }

    /** Parses the text form, e.g. {@code 16418:3ffeea57322e24cd6fd207682f59ead324f}. */
    @JsonCreator
    public static IssuanceKey parse(String text) {
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException(
                    "issuance key must be '<issuer_ca_id>:<serial hex>', got '" + text + "'");
        }
        try {
            return of(Long.parseLong(text.substring(0, colon)), text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("issuance key must start with a numeric issuer id: '" + text + "'", e);
        }
    }

    /** The serial as lowercase hex without leading zeros. */
    public String serialHex() {
        return serial.toString(16);
    }

    @JsonValue
    @Override
    public String toString() {
        return issuerCaId + ":" + serialHex();
    }
}
