package dev.ctwatch.fetcher;

import dev.ctwatch.fetcher.watchlist.WatchEntry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Silence must never look like "no new certificates": stale polls make the service unready. */
@Readiness
@ApplicationScoped
public class CrtShFreshnessCheck implements HealthCheck {
    private final Instant startedAt = Instant.now();

    @Inject
    Poller poller;

    @Inject
    FetcherConfig config;

    @Override
    public HealthCheckResponse call() {
        Duration bound = config.maxStaleness();
        Instant now = Instant.now();
        HealthCheckResponseBuilder response =
                HealthCheckResponse.named("crt.sh freshness").up();
        var polls = poller.lastPolls();
        for (WatchEntry entry : poller.watchlist().entries()) {
            if (!poller.pollsHere(entry)) {
                continue; // another replica polls it and answers for its freshness
            }
            PollLog.Poll poll = polls.get(entry.domain());
            Instant lastSuccess = poller.lastSuccess(entry.domain());
            // until its first poll in this run, an entry is judged from the start of this run
            Instant since =
                    lastSuccess == null || (poll == null && lastSuccess.isBefore(startedAt)) ? startedAt : lastSuccess;
            Duration age = Duration.between(since, now);
            response.withData(
                    entry.domain(),
                    (poll == null ? "not polled yet" : poll.outcome().name()) + ", last success "
                            + (lastSuccess == null ? "never" : lastSuccess));
            if (age.compareTo(bound) > 0) {
                response.down();
            }
        }
        response.withData("crt.sh circuit breaker", poller.breakerState().name());
        response.withData(
                "shard", poller.shard().index() + " of " + poller.shard().count());
        return response.build();
    }
}
