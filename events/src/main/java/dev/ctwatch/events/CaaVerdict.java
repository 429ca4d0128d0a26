package dev.ctwatch.events;

/** The verdict on a whole certificate, from its names' outcomes. */
public enum CaaVerdict {
    /** Every name PERMITTED. */
    COMPLIANT,
    /** At least one name FORBIDDEN for a known issuer: a finding is attached. */
    POSSIBLE_NON_COMPLIANCE,
    /** No name FORBIDDEN, but at least one ERROR or CONDITIONAL. */
    INCONCLUSIVE,
    /** The issuer's CAA identities are unknown, so nothing can be judged. */
    UNKNOWN_ISSUER
}
