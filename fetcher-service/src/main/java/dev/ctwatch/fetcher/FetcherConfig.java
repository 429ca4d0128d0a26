package dev.ctwatch.fetcher;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Configuration of the fetcher: what to watch, how often and how politely crt.sh is asked. */
@ConfigMapping(prefix = "fetcher")
public interface FetcherConfig {

    /** The watched domains; replaced by the entries of {@link #watchlistFile()} when that is set. */
    Optional<List<Entry>> watchlist();

    /**
     * A mounted file of watch entries (a Kubernetes ConfigMap): {@code .yaml}/{@code .yml},
     * {@code .json} or {@code .properties}. When set, its entries replace {@link #watchlist()} and
     * it is re-read whenever its modification time changes.
     */
    Optional<String> watchlistFile();

    /** How often the modification time of {@link #watchlistFile()} is checked. */
    @WithDefault("PT30S")
    Duration watchlistReloadInterval();

    /** How often every entry is polled. */
    @WithDefault("PT10M")
    Duration pollInterval();

    /** Delay before the first polls, which are then spread at random over one poll interval. */
    @WithDefault("PT5S")
    Duration initialDelay();

    /** How often the scheduler looks for due polls and retries; the granularity of every delay. */
    @WithDefault("1s")
    String tick();

    /** Ready only while every entry had a successful poll within this bound (or the service is younger). */
    @WithDefault("PT1H")
    Duration maxStaleness();

    /** How long a poll may wait for the broker to acknowledge its rows. */
    @WithDefault("PT60S")
    Duration publishTimeout();

    /**
     * Where rows are published. The broker and producer settings are Quarkus' {@code kafka.*}
     * properties (e.g. {@code KAFKA_BOOTSTRAP_SERVERS}, {@code KAFKA_LINGER_MS}); {@code acks=all} and
     * idempotence are fixed.
     */
    Publish publish();

    /** Sent to crt.sh, which blocks anonymous or borrowed user agents. */
    @WithDefault("ctwatch/0.1 (certificate transparency monitor)")
    String userAgent();

    /** Which part of the watchlist this replica polls. */
    ShardConfig shard();

    /** How crt.sh is called. Its base URL is {@code quarkus.rest-client.crtsh.url}. */
    CrtSh crtsh();

    interface Entry {
        /** A DNS name; IDNs are converted to punycode. */
        String domain();

        /** Also watch every name below the domain. */
        @WithDefault("true")
        boolean includeSubdomains();

        /** Labels that travel with every event of this entry, for routing (e.g. team=payments). */
        Map<String, String> labels();
    }

    interface ShardConfig {
        /** Replicas splitting the watchlist; each entry is polled by exactly one of them. */
        @WithDefault("1")
        int count();

        /** This replica's shard; unset, it is the StatefulSet ordinal at the end of the host name. */
        Optional<Integer> index();
    }

    interface Publish {
        @WithDefault("ctwatch.certificates.observed.v1")
        String topic();

        /** Records a poll keeps unacknowledged at most; the producer's buffer bounds the memory as well. */
        @WithDefault("1000")
        int window();
    }

    interface CrtSh {
        /** Requests to crt.sh in flight at once, over the whole service. */
        @WithDefault("1")
        int maxInFlight();

        /** Least time between the starts of two requests (crt.sh allows about one a second per IP). */
        @WithDefault("PT2S")
        Duration minSpacing();

        /** TCP connect timeout. */
        @WithDefault("PT10S")
        Duration connectTimeout();

        /** How long crt.sh may take to start answering; it holds requests in its rate limiter. */
        @WithDefault("PT90S")
        Duration responseTimeout();

        /** How long reading a whole answer may take before the connection is dropped. */
        @WithDefault("PT10M")
        Duration bodyTimeout();

        /** First retry delay of a failed poll; doubled per retry, with jitter. */
        @WithDefault("PT15S")
        Duration initialBackoff();

        /** Longest retry delay (a Retry-After header is honoured up to this, too). */
        @WithDefault("PT10M")
        Duration maxBackoff();

        /** Consecutive failed requests after which the circuit breaker opens. */
        @WithDefault("5")
        int breakerFailureThreshold();

        /** How long an open breaker lets no request through before it tries one. */
        @WithDefault("PT5M")
        Duration breakerOpenDuration();
    }
}
