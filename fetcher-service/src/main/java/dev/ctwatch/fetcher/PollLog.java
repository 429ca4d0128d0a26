package dev.ctwatch.fetcher;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The last poll of each entry and its last success: what the watchlist API and readiness report. */
@ApplicationScoped
public class PollLog {

    public record Poll(
            String entry,
            Instant at,
            CrtShAnswer.Outcome outcome,
            long rows,
            long published,
            long rejected,
            boolean truncated,
            boolean backfill,
            String detail,
            Instant lastSuccessAt) {}

    private final Map<String, Poll> last = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastSuccessSeconds = new ConcurrentHashMap<>();
    private final MeterRegistry metrics;

    PollLog(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    public boolean hadSuccess(String entry) {
        Poll poll = last.get(entry);
        return poll != null && poll.lastSuccessAt() != null;
    }

    Poll record(String entry, Instant at, CrtShAnswer.Result result, long published, long rejected, boolean backfill) {
        boolean success = result.outcome() == CrtShAnswer.Outcome.SUCCESS;
        Poll previous = last.get(entry);
        Instant lastSuccess = success ? at : previous == null ? null : previous.lastSuccessAt();
        Poll poll = new Poll(
                entry,
                at,
                result.outcome(),
                result.rows(),
                published,
                rejected,
                result.truncated(),
                backfill && success,
                result.detail(),
                lastSuccess);
        last.put(entry, poll);
        if (success) {
            lastSuccessSeconds
                    .computeIfAbsent(
                            entry,
                            e -> metrics.gauge(
                                    "ctwatch.fetch.last.success.timestamp.seconds",
                                    io.micrometer.core.instrument.Tags.of("entry", e),
                                    new AtomicLong()))
                    .set(at.getEpochSecond());
        }
        return poll;
    }

    public Map<String, Poll> lastPolls() {
        return Map.copyOf(last);
    }
}
