package dev.ctwatch.notifier.routing;

/** What a notification is about; routes select on it. */
public enum Kind {
    /** A new certificate for a watched entry, nothing wrong found. */
    NEW_CERTIFICATE,
    /** Possible CAA non-compliance. */
    CAA_FINDING,
    /** Same issuer and serial as a known issuance, different content. */
    SERIAL_REUSE,
    /** crt.sh served a certificate that does not match its row. */
    ROW_MISMATCH
}
