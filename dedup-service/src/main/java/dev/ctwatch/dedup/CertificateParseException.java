package dev.ctwatch.dedup;

/** A downloaded body that is not a usable certificate. */
public class CertificateParseException extends Exception {
    public CertificateParseException(String message) {
        super(message);
    }
}
