package dev.ctwatch.dedup.certificate;

/** A downloaded body that is not a usable certificate. */
public class CertificateParseException extends Exception {
    public CertificateParseException(String message) {
        super(message);
    }
}
