package dev.ctwatch.fetcher;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.IssuanceKey;
import dev.ctwatch.events.WatchMatch;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/** Polls crt.sh for each watch entry and publishes every matching row, keyed by issuance. */
@ApplicationScoped
public class Poller {
    private static final Logger LOG = Logger.getLogger(Poller.class);
    /** Rows handed to the emitter before waiting for the broker, bounding memory and the emitter buffer. */
    private static final int PUBLISH_CHUNK = 500;

    @Inject
    @RestClient
    CrtShClient crtSh;

    @Inject
    @Channel("certificates-observed")
    MutinyEmitter<CertificateObserved> observed;

    @Inject
    FetcherConfig config;

    @Inject
    PollLog pollLog;

    @Inject
    MeterRegistry metrics;

    Watchlist watchlist;
    Clock clock = Clock.systemUTC();

    /** crt.sh ids already acknowledged by the broker: not published again while the service runs. */
    private final Set<Long> published = ConcurrentHashMap.newKeySet();

    @jakarta.annotation.PostConstruct
    void init() {
        watchlist = Watchlist.from(config);
    }

    public Watchlist watchlist() {
        return watchlist;
    }

    @Scheduled(
            every = "${fetcher.poll-interval}",
            delayed = "${fetcher.initial-delay}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void pollAll() {
        for (WatchEntry entry : watchlist.entries()) {
            poll(entry);
        }
    }

    /** Polls one entry now; synchronized so scheduled and on-demand polls never overlap. */
    public synchronized PollLog.Poll poll(WatchEntry entry) {
        Instant started = clock.instant();
        Timer.Sample sample = Timer.start(metrics);
        boolean backfill = !pollLog.hadSuccess(entry.domain());
        List<Uni<Void>> inFlight = new ArrayList<>();
        List<Long> sent = new ArrayList<>();
        long[] counts = new long[2]; // published, rejected
        CrtShAnswer.Result result;
        try (Response response = CrtShClient.search(crtSh, entry.domain())) {
            result = CrtShAnswer.classify(response.getStatus(), response.getHeaderString(HttpHeaders.CONTENT_TYPE));
            if (result == null) {
                InputStream body = response.readEntity(InputStream.class);
                result = CrtShAnswer.read(body, row -> {
                    Message<CertificateObserved> message = toMessage(row, backfill, started, counts);
                    if (message != null) {
                        inFlight.add(observed.sendMessage(message));
                        sent.add(row.id());
                        if (inFlight.size() >= PUBLISH_CHUNK) {
                            counts[0] += awaitAcks(inFlight, sent);
                        }
                    }
                });
            }
            // a poll is done only when the broker has acknowledged every row it published
            counts[0] += awaitAcks(inFlight, sent);
        } catch (ProcessingException e) {
            result = new CrtShAnswer.Result(
                    CrtShAnswer.Outcome.UNAVAILABLE, 0, 0, "crt.sh unreachable: " + e.getMessage());
        } catch (RuntimeException e) {
            // the broker did not acknowledge in time: the unacknowledged rows are published again next poll
            result = new CrtShAnswer.Result(
                    CrtShAnswer.Outcome.PUBLISH_FAILED, 0, 0, "Kafka did not acknowledge the rows: " + e.getMessage());
        }
        sample.stop(metrics.timer("ctwatch.fetch.crtsh.latency", "entry", entry.domain()));
        metrics.counter(
                        "ctwatch.fetch.polls",
                        "entry",
                        entry.domain(),
                        "outcome",
                        result.outcome().name().toLowerCase())
                .increment();
        if (result.truncated()) {
            metrics.counter("ctwatch.fetch.truncated.polls", "entry", entry.domain())
                    .increment();
            LOG.warnf(
                    "crt.sh answer for %s is truncated (%d identity rows): split the entry",
                    entry.domain(), result.identityRows());
        }
        if (result.outcome() != CrtShAnswer.Outcome.SUCCESS) {
            LOG.warnf("poll of %s failed (%s): %s", entry.domain(), result.outcome(), result.detail());
        }
        return pollLog.record(entry.domain(), started, result, counts[0], counts[1], backfill);
    }

    private Message<CertificateObserved> toMessage(CrtShRow row, boolean backfill, Instant fetchedAt, long[] counts) {
        IssuanceKey key;
        try {
            key = row.issuanceKey();
        } catch (IllegalArgumentException e) {
            key = null;
        }
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
        CertificateObserved event = new CertificateObserved(row, matches, fetchedAt, backfill);
        return Message.of(event)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                        .withKey(key.toString())
                        .build());
    }

    /** Waits until the broker acknowledged every row in flight; returns how many there were. */
    private int awaitAcks(List<Uni<Void>> inFlight, List<Long> sent) {
        int count = inFlight.size();
        if (count == 0) {
            return 0;
        }
        Uni.join().all(inFlight).andFailFast().await().atMost(config.publishTimeout());
        published.addAll(sent);
        metrics.counter("ctwatch.fetch.rows.published").increment(count);
        inFlight.clear();
        sent.clear();
        return count;
    }

    Map<String, PollLog.Poll> lastPolls() {
        return pollLog.lastPolls();
    }
}
