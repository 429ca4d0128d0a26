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
    }
}
