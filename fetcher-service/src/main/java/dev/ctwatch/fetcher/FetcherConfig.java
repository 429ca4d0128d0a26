package dev.ctwatch.fetcher;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Configuration of the fetcher: what to watch and how often crt.sh is asked. */
@ConfigMapping(prefix = "fetcher")
public interface FetcherConfig {

    /** The watched domains. */
    List<Entry> watchlist();

    /** How often every entry is polled. */
    @WithDefault("PT10M")
    Duration pollInterval();

    /** Delay of the first poll after start-up, so the broker connection settles first. */
    @WithDefault("5s")
    String initialDelay();

    /** Ready only while every entry had a successful poll within this bound (or the service is younger). */
    @WithDefault("PT1H")
    Duration maxStaleness();

    /** How long a poll may wait for the broker to acknowledge its rows. */
    @WithDefault("PT60S")
    Duration publishTimeout();

    /** Sent to crt.sh, which blocks anonymous or borrowed user agents. */
    @WithDefault("ctwatch/0.1 (certificate transparency monitor)")
    String userAgent();

    interface Entry {
        /** A DNS name; IDNs are converted to punycode. */
        String domain();

        /** Also watch every name below the domain. */
        @WithDefault("true")
        boolean includeSubdomains();

        /** Labels that travel with every event of this entry, for routing (e.g. team=payments). */
        Map<String, String> labels();
    }
}
