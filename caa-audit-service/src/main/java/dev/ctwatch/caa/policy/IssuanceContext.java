package dev.ctwatch.caa.policy;

import java.util.Locale;

/**
 * What is known about how a certificate was requested (RFC 8657). A logged certificate shows
 * neither the ACME account nor the validation method, so audits use {@link #UNKNOWN}; the check API
 * lets a caller state them.
 *
 * @param accountUri the CA account URI, or null when unknown
 * @param validationMethod the validation method label, or null when unknown
 */
public record IssuanceContext(String accountUri, String validationMethod) {
    public static final IssuanceContext UNKNOWN = new IssuanceContext(null, null);

    public IssuanceContext {
        validationMethod = validationMethod == null ? null : validationMethod.toLowerCase(Locale.ROOT);
    }
}
