package dev.ctwatch.events;

/** Something about an issuance that a person must look at, whatever its CAA verdict. */
public record Anomaly(Kind kind, String detail) {
    public enum Kind {
        /** Same issuer and serial as a known issuance, different TBSCertificate. */
        SERIAL_REUSE,
        /** The certificate crt.sh served does not carry the serial or issuer of its row. */
        ROW_MISMATCH
    }
}
