package dev.ctwatch.fetcher;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.IssuanceKey;
import dev.ctwatch.events.WatchMatch;
import dev.ctwatch.fetcher.crtsh.Backoff;
import dev.ctwatch.fetcher.crtsh.CircuitBreaker;
import dev.ctwatch.fetcher.crtsh.CrtShAnswer;
import dev.ctwatch.fetcher.crtsh.CrtShSearch;
import dev.ctwatch.fetcher.watchlist.Shard;
import dev.ctwatch.fetcher.watchlist.WatchEntry;
import dev.ctwatch.fetcher.watchlist.Watchlist;
import dev.ctwatch.fetcher.watchlist.WatchlistFile;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;
import org.jboss.logging.Logger;

/** Polls crt.sh for each watch entry on its schedule and publishes every matching row, keyed by issuance. */
@Startup
@ApplicationScoped
public class Poller {
    private static final Logger LOG = Logger.getLogger(Poller.class);

    @Inject
    CrtShSearch crtSh;

    @Inject
    ObservedPublisher publisher;

    @Inject
    FetcherConfig config;

    @Inject
    PollLog pollLog;

    @Inject
    MeterRegistry metrics;

    private volatile Watchlist watchlist;
    private Shard shard;
    private volatile FileTime watchlistFileTime;
    private PollSchedule schedule;
    private final Clock clock = Clock.systemUTC();

    /** crt.sh ids already acknowledged by the broker: not published again while the service runs. */
    private final Set<Long> published = ConcurrentHashMap.newKeySet();

    /** Runs at start-up (the bean is {@code @Startup}): an invalid watchlist stops the service here. */
    @PostConstruct
    void init() {
        watchlist = loadWatchlist();
        shard = Shard.of(config.shard().count(), config.shard().index(), hostname());
        RandomGenerator random = RandomGenerator.getDefault();
        schedule = new PollSchedule(
                config.pollInterval(),
                config.initialDelay(),
                new Backoff(config.crtsh().initialBackoff(), config.crtsh().maxBackoff(), random),
                random);
        List<String> mine = polledHere(watchlist);
        schedule.watch(mine, clock.instant());
        pollLog.load();
        pollLog.watching(mine);
        LOG.infof(
                "watching %d entries, polling the %d of shard %d of %d, each every %s",
                watchlist.entries().size(), mine.size(), shard.index(), shard.count(), config.pollInterval());
    }

    public Watchlist watchlist() {
        return watchlist;
    }

    /** Whether this replica polls the entry; every other entry belongs to exactly one other replica. */
    public boolean pollsHere(WatchEntry entry) {
        return shard.owns(entry.domain());
    }

    public Shard shard() {
        return shard;
    }

    public CircuitBreaker.State breakerState() {
        return crtSh.breakerState();
    }

    /** When the entry is polled next, and whether that is a retry. */
    public PollSchedule.Slot slot(String domain) {
        return schedule.slot(domain);
    }

    // delayed: a trigger at the very start ran before the messaging emitters were connected
    @Scheduled(
            every = "${fetcher.tick}",
            delayed = "${fetcher.tick}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        for (String domain : schedule.due(clock.instant())) {
            watchlist.entry(domain).ifPresent(this::poll);
        }
    }

    /** A mounted ConfigMap changes without a restart: re-read the file when its modification time moves. */
    @Scheduled(
            every = "${fetcher.watchlist-reload-interval}",
            delayed = "${fetcher.watchlist-reload-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void reloadWatchlist() {
        if (config.watchlistFile().isEmpty()) {
            return;
        }
        Path file = Path.of(config.watchlistFile().get());
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (modified.equals(watchlistFileTime)) {
                return;
            }
            Watchlist reloaded = new Watchlist(WatchlistFile.read(file));
            watchlistFileTime = modified;
            watchlist = reloaded;
            List<String> mine = polledHere(reloaded);
            schedule.watch(mine, clock.instant());
            pollLog.watching(mine);
            metrics.counter("ctwatch.fetch.watchlist.reloads", "outcome", "success")
                    .increment();
            LOG.infof(
                    "watchlist reloaded from %s: %d entries",
                    file, reloaded.entries().size());
        } catch (IOException | RuntimeException e) {
            // keep polling the last good list; the operator sees the error and the counter
            metrics.counter("ctwatch.fetch.watchlist.reloads", "outcome", "failure")
                    .increment();
            LOG.errorf("watchlist file %s not reloaded, keeping the current list: %s", file, e.getMessage());
        }
    }

    private Watchlist loadWatchlist() {
        if (config.watchlistFile().isPresent()) {
            Path file = Path.of(config.watchlistFile().get());
            try {
                watchlistFileTime = Files.getLastModifiedTime(file);
                return new Watchlist(WatchlistFile.read(file));
            } catch (IOException e) {
                throw new IllegalStateException("watchlist file " + file + " cannot be read: " + e.getMessage(), e);
            }
        }
        return Watchlist.from(config);
    }

    /** Polls one entry now; synchronized so scheduled and on-demand polls never overlap. */
    public synchronized PollLog.Poll poll(WatchEntry entry) {
        Instant started = clock.instant();
        boolean backfill = !pollLog.hadSuccess(entry.domain());
        PublishWindow window = new PublishWindow(config.publish().window(), config.publishTimeout());
        long[] counts = new long[2]; // published, rejected
        CrtShAnswer.Result result;
        try {
            result = crtSh.search(entry.domain(), row -> {
                IssuanceKey key = issuanceKey(row);
                CertificateObserved event = observe(row, key, backfill, started, counts);
                if (event != null) {
                    publish(window, key.toString(), event);
                }
            });
            // a poll is done only when the broker has acknowledged every row it published
            counts[0] = window.awaitAll();
            metrics.counter("ctwatch.fetch.rows.published").increment(counts[0]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result = new CrtShAnswer.Result(CrtShAnswer.Outcome.UNAVAILABLE, 0, 0, "interrupted (shutting down)");
        } catch (RuntimeException | java.util.concurrent.TimeoutException e) {
            // the broker did not acknowledge in time: the unacknowledged rows are published again next attempt
            result = new CrtShAnswer.Result(
                    CrtShAnswer.Outcome.PUBLISH_FAILED, 0, 0, "Kafka did not acknowledge the rows: " + e.getMessage());
        }
        PollSchedule.Decision next = schedule.after(entry.domain(), clock.instant(), result);
        String outcome = result.outcome().name().toLowerCase();
        metrics.counter("ctwatch.fetch.polls", "entry", entry.domain(), "outcome", outcome)
                .increment();
        if (next.retry()) {
            metrics.counter("ctwatch.fetch.retries", "entry", entry.domain()).increment();
        }
        if (result.truncated()) {
            metrics.counter("ctwatch.fetch.truncated.polls", "entry", entry.domain())
                    .increment();
            LOG.warnf(
                    "crt.sh answer for %s is truncated (%d identity rows): split the entry",
                    entry.domain(), result.identityRows());
        }
        if (result.outcome() != CrtShAnswer.Outcome.SUCCESS) {
            LOG.warnf(
                    "poll of %s failed (%s): %s; next %s at %s",
                    entry.domain(), result.outcome(), result.detail(), next.retry() ? "retry" : "poll", next.nextAt());
        }
        return pollLog.record(entry.domain(), started, result, counts[0], counts[1], backfill, next);
    }

    /** The event for a row, or null when the row is rejected, already published or not under a watched domain. */
    private CertificateObserved observe(
            CrtShRow row, IssuanceKey key, boolean backfill, Instant fetchedAt, long[] counts) {
        if (row.id() == null || key == null) {
            counts[1]++;
            metrics.counter("ctwatch.fetch.rows.rejected", "reason", "no-issuance-key")
                    .increment();
            LOG.warnf(
                    "crt.sh row without id, issuer id or serial skipped: id=%s issuer_ca_id=%s",
                    row.id(), row.issuerCaId());
            return null;
        }
        if (published.contains(row.id())) {
            return null;
        }
        List<WatchMatch> matches = watchlist.matches(row);
        if (matches.isEmpty()) {
            // crt.sh matches substrings and subject fields; only names under a watched domain count
            return null;
        }
        return new CertificateObserved(row, matches, fetchedAt, backfill);
    }

    private static IssuanceKey issuanceKey(CrtShRow row) {
        try {
            return row.issuanceKey();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private void publish(PublishWindow window, String key, CertificateObserved event) {
        long id = event.row().id();
        try {
            window.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        try {
            publisher.send(key, event, window.completion(() -> published.add(id)));
        } catch (RuntimeException e) {
            window.abandon();
            throw e;
        }
    }

    /** Forgets which rows were published, as a restart does (tests). */
    void forgetPublished() {
        published.clear();
    }

    public Instant lastSuccess(String domain) {
        return pollLog.lastSuccess(domain);
    }

    Map<String, PollLog.Poll> lastPolls() {
        return pollLog.lastPolls();
    }

    /** The entries this replica polls; matching still uses the whole list, so events name every entry. */
    private List<String> polledHere(Watchlist list) {
        return list.entries().stream()
                .map(WatchEntry::domain)
                .filter(Objects::nonNull)
                .filter(shard::owns)
                .toList();
    }

    private static String hostname() {
        String name = System.getenv("HOSTNAME");
        if (name != null) {
            return name;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "";
        }
    }
}
