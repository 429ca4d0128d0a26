package dev.ctwatch.caa;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Configuration of the CAA audit, under {@code caa-audit.*}. */
@ConfigMapping(prefix = "caa-audit")
public interface CaaAuditConfig {

    /** How CAA records are looked up. */
    Dns dns();

    /** How long answers are kept. */
    Cache cache();

    /** The stored history of CAA observations. */
    History history();

    /**
     * Issuer overrides: the key is an Authority Key Identifier (lowercase hex), an issuer {@code O=}
     * or an issuer {@code CN=} value, the value the CAA identities of that issuer. A matching
     * override replaces what the shipped issuer map says, and adds issuers it does not know. Keys
     * with spaces or dots are quoted: {@code caa-audit.issuers."Example CA"=example-ca.test}.
     */
    Map<String, List<String>> issuers();

    interface Dns {
        /**
         * Resolvers to query, as {@code host:port} ({@code host} alone means port 53; IPv6 as
         * {@code [::1]:53}). Absent: the system resolvers. They must be recursive resolvers (or an
         * authoritative server for every zone audited, in tests).
         */
        Optional<List<String>> servers();

        /** Timeout of one query to one server. */
        @WithDefault("PT3S")
        Duration timeout();

        /** Retries per server after a timeout or I/O error (a SERVFAIL answer is not retried). */
        @WithDefault("2")
        int retries();

        /** Most CNAME/DNAME links followed in one lookup; a longer chain is an error. */
        @WithDefault("16")
        int maxAliases();
    }

    interface Cache {
        /** Answers (negative ones too) are kept at least this long, whatever their TTL. */
        @WithDefault("PT10S")
        Duration minTtl();

        /** ... and at most this long, so a change is seen within it. */
        @WithDefault("PT5M")
        Duration maxTtl();

        /** Most names cached; beyond it expired entries are dropped, then the oldest. */
        @WithDefault("100000")
        int maxEntries();
    }

    interface History {
        /** How often the CAA of every watched name is looked up afresh and stored. */
        @WithDefault("PT5M")
        Duration snapshotInterval();

        /**
         * Two observations further apart than this leave a gap in the history: an unchanged answer
         * then starts a new row, and a window with a gap cannot be graded SUSTAINED.
         */
        @WithDefault("PT15M")
        Duration maxGap();

        /** A name stays watched this long after the last certificate that carried it. */
        @WithDefault("P120D")
        Duration watchFor();
    }
}
