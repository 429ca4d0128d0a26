package dev.ctwatch.fetcher;

import dev.ctwatch.fetcher.crtsh.CrtShAnswer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * The last poll of each entry and its successes: what the watchlist API and readiness report. The
 * first and last success are kept in PostgreSQL ({@link WatchState}), so a restarted fetcher
 * neither backfills an entry again nor forgets when it last succeeded.
 */
@ApplicationScoped
public class PollLog {
    private static final Logger LOG = Logger.getLogger(PollLog.class);
    private static final String LAST_SUCCESS = "ctwatch.fetch.last.success.timestamp.seconds";

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
            Instant lastSuccessAt,
            Instant nextPollAt,
            boolean nextIsRetry) {}

    private final Map<String, Poll> last = new ConcurrentHashMap<>();
    private final Map<String, Instant> firstSuccess = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastSuccess = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastSuccessSeconds = new ConcurrentHashMap<>();
    private volatile Set<String> polledHere = Set.of();
    private final MeterRegistry metrics;

    PollLog(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    /** Reads what earlier runs stored; called once at start-up, before {@link #watching}. */
    void load() {
        List<WatchState> states = QuarkusTransaction.requiringNew().call(() -> WatchState.<WatchState>listAll());
        for (WatchState state : states) {
            if (state.firstSuccessAt != null) {
                firstSuccess.put(state.domain, state.firstSuccessAt);
            }
            if (state.lastSuccessAt != null) {
                lastSuccess.put(state.domain, state.lastSuccessAt);
            }
        }
    }

    /**
     * The entries this replica polls, at start-up and after every watchlist reload. Only they have
     * a staleness gauge: a gauge nobody updates (another replica's entry, an entry removed from the
     * watchlist) would fire the staleness alert for good. One with an earlier success starts there.
     */
    synchronized void watching(Collection<String> entries) {
        polledHere = Set.copyOf(entries);
        lastSuccessSeconds.keySet().removeIf(entry -> {
            if (polledHere.contains(entry)) {
                return false;
            }
            metrics.find(LAST_SUCCESS).tag("entry", entry).meters().forEach(metrics::remove);
            return true;
        });
        polledHere.forEach(entry -> {
            Instant at = lastSuccess.get(entry);
            if (at != null) {
                gauge(entry).set(at.getEpochSecond());
            }
        });
    }

    /** Whether the entry ever had a successful poll, in this run or an earlier one. */
    public boolean hadSuccess(String entry) {
        return firstSuccess.containsKey(entry);
    }

    public Instant lastSuccess(String entry) {
        return lastSuccess.get(entry);
    }

    Poll record(
            String entry,
            Instant at,
            CrtShAnswer.Result result,
            long published,
            long rejected,
            boolean backfill,
            PollSchedule.Decision next) {
        boolean success = result.outcome() == CrtShAnswer.Outcome.SUCCESS;
        if (success) {
            firstSuccess.putIfAbsent(entry, at);
            lastSuccess.put(entry, at);
            succeeded(entry, at);
        }
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
                lastSuccess.get(entry),
                next.nextAt(),
                next.retry());
        last.put(entry, poll);
        store(poll);
        return poll;
    }

    private void store(Poll poll) {
        try {
            QuarkusTransaction.requiringNew().run(() -> {
                WatchState found = WatchState.findById(poll.entry());
                WatchState state = found == null ? new WatchState() : found;
                state.domain = poll.entry();
                if (state.firstSuccessAt == null) {
                    state.firstSuccessAt = firstSuccess.get(poll.entry());
                }
                state.lastSuccessAt = poll.lastSuccessAt();
                state.lastPollAt = poll.at();
                state.lastOutcome = poll.outcome().name();
                state.lastRows = poll.rows();
                state.lastTruncated = poll.truncated();
                if (found == null) {
                    state.persist();
                }
            });
        } catch (RuntimeException e) {
            // the poll itself succeeded; only a restart before the next stored poll would backfill again
            LOG.errorf("could not store the poll state of %s: %s", poll.entry(), e.getMessage());
            metrics.counter("ctwatch.fetch.state.store.failures").increment();
        }
    }

    /** Moves the entry's gauge, unless a reload took the entry from this replica during its poll. */
    private synchronized void succeeded(String entry, Instant at) {
        if (polledHere.contains(entry)) {
            gauge(entry).set(at.getEpochSecond());
        }
    }

    private AtomicLong gauge(String entry) {
        return lastSuccessSeconds.computeIfAbsent(
                entry, e -> metrics.gauge(LAST_SUCCESS, Tags.of("entry", e), new AtomicLong()));
    }

    public Map<String, Poll> lastPolls() {
        return Map.copyOf(last);
    }
}
