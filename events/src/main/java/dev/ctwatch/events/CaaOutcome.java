package dev.ctwatch.events;

/** What the CAA records of one name say about one certificate's issuer. */
public enum CaaOutcome {
    /** The relevant record set authorises the issuer, or there is none. */
    PERMITTED,
    /** The relevant record set does not authorise the issuer. */
    FORBIDDEN,
    /** DNS could not answer; this is never read as "no records". */
    ERROR,
    /** Authorised only under parameters the auditor cannot check (account URI, validation method). */
    CONDITIONAL
}
