package dev.ctwatch.caa.dns;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * CAA answers kept for their TTL, clamped to [{@code minTtl}, {@code maxTtl}]; empty answers for
 * their negative TTL (SOA minimum). Errors are never kept: the next audit asks again. However many
 * audits ask for one name at once, one lookup is in flight for it and they all share its answer.
 */
public final class CaaCache implements CaaRecordSource {
    private record Entry(CompletableFuture<CaaAnswer> answer, Instant expires) {}

    private final CaaRecordSource dns;
    private final Clock clock;
    private final Duration minTtl;
    private final Duration maxTtl;
    private final int maxEntries;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<CaaAnswer>> inFlight = new ConcurrentHashMap<>();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder coalesced = new LongAdder();

    public CaaCache(CaaRecordSource dns, Clock clock, Duration minTtl, Duration maxTtl, int maxEntries) {
        if (minTtl.compareTo(maxTtl) > 0) {
            throw new IllegalArgumentException("cache min-ttl " + minTtl + " exceeds max-ttl " + maxTtl);
        }
        this.dns = dns;
        this.clock = clock;
        this.minTtl = minTtl;
        this.maxTtl = maxTtl;
        this.maxEntries = maxEntries;
    }

    @Override
    public CompletionStage<CaaAnswer> lookup(String name) {
        Entry entry = entries.get(name);
        if (entry != null && clock.instant().isBefore(entry.expires())) {
            hits.increment();
            return entry.answer();
        }
        return fetch(name);
    }

    /** Asks DNS now, whatever is cached (joining a lookup already in flight), and caches the answer. */
    public CompletionStage<CaaAnswer> refresh(String name) {
        return fetch(name);
    }

    private CompletionStage<CaaAnswer> fetch(String name) {
        CompletableFuture<CaaAnswer> mine = new CompletableFuture<>();
        CompletableFuture<CaaAnswer> running = inFlight.putIfAbsent(name, mine);
        if (running != null) {
            coalesced.increment();
            return running;
        }
        misses.increment();
        CompletionStage<CaaAnswer> lookup;
        try {
            lookup = dns.lookup(name);
        } catch (RuntimeException e) {
            lookup = CompletableFuture.failedFuture(e);
        }
        lookup.whenComplete((answer, failure) -> {
            CaaAnswer result =
                    failure != null ? CaaAnswer.error(name, "lookup failed: " + failure, clock.instant()) : answer;
            if (result.status() != CaaAnswer.Status.ERROR) {
                store(name, result);
            }
            // cache first, then leave the in-flight map: a caller in between finds one or the other
            inFlight.remove(name, mine);
            mine.complete(result);
        });
        return mine;
    }

    private void store(String name, CaaAnswer answer) {
        if (entries.size() >= maxEntries) {
            evict();
        }
        entries.put(
                name,
                new Entry(
                        CompletableFuture.completedFuture(answer),
                        clock.instant().plus(ttl(answer))));
    }

    Duration ttl(CaaAnswer answer) {
        Duration ttl = answer.ttlSeconds() == null ? minTtl : Duration.ofSeconds(answer.ttlSeconds());
        if (ttl.compareTo(minTtl) < 0) {
            return minTtl;
        }
        return ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
    }

    private void evict() {
        Instant now = clock.instant();
        entries.values().removeIf(e -> !now.isBefore(e.expires()));
        // still full: drop an arbitrary tenth rather than grow without bound
        Iterator<String> it = entries.keySet().iterator();
        for (int i = 0; entries.size() >= maxEntries && i < maxEntries / 10 + 1 && it.hasNext(); i++) {
            it.next();
            it.remove();
        }
    }

    public void clear() {
        entries.clear();
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    public long coalesced() {
        return coalesced.sum();
    }

    public int size() {
        return entries.size();
    }
}
