package dev.ctwatch.fetcher;

import dev.ctwatch.fetcher.crtsh.Backoff;
import dev.ctwatch.fetcher.crtsh.CrtShAnswer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * When each entry is polled next. First polls are spread at random over one interval, later ones
 * follow every interval with +-10% jitter, so entries never bunch up on crt.sh; a failed attempt is
 * retried with backoff, but never past the entry's next regular poll.
 */
public final class PollSchedule {

    /** @param retry how many retries of the current poll were scheduled so far */
    public record Slot(Instant nextAt, int retry, Instant regularAt) {}

    /** What {@link #after} decided. */
    public record Decision(Instant nextAt, boolean retry) {}

    private final Duration interval;
    private final Duration initialDelay;
    private final Backoff backoff;
    private final RandomGenerator random;
    private final Map<String, Slot> slots = new LinkedHashMap<>();

    public PollSchedule(Duration interval, Duration initialDelay, Backoff backoff, RandomGenerator random) {
        this.interval = interval;
        this.initialDelay = initialDelay;
        this.backoff = backoff;
        this.random = random;
    }

    /** Keeps the slots of entries still watched and gives new ones a first poll somewhere in one interval. */
    public synchronized void watch(Collection<String> entries, Instant now) {
        slots.keySet().retainAll(entries);
        for (String entry : entries) {
            if (!slots.containsKey(entry)) {
                Instant first = now.plus(initialDelay).plusMillis(random.nextLong(Math.max(1, interval.toMillis())));
                slots.put(entry, new Slot(first, 0, first));
            }
        }
    }

    /** Entries due at {@code now}, most overdue first. */
    public synchronized List<String> due(Instant now) {
        List<Map.Entry<String, Slot>> due = new ArrayList<>();
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            if (!e.getValue().nextAt().isAfter(now)) {
                due.add(e);
            }
        }
        due.sort(Comparator.comparing(e -> e.getValue().nextAt()));
        return due.stream().map(Map.Entry::getKey).toList();
    }

    public synchronized Slot slot(String entry) {
        return slots.get(entry);
    }

    /** Schedules the next attempt after one that ended at {@code now}. */
    public synchronized Decision after(String entry, Instant now, CrtShAnswer.Result result) {
        Slot slot = slots.get(entry);
        if (slot == null) {
            return new Decision(null, false); // no longer watched
        }
        // a first attempt (scheduled or on demand) starts a new cycle; retries stay in theirs
        Instant regular = slot.retry() == 0 || now.isAfter(slot.regularAt()) ? now.plus(jittered()) : slot.regularAt();
        if (result.outcome().retryable()) {
            int retry = slot.retry() + 1;
            Instant at = now.plus(backoff.delay(retry, java.util.Optional.ofNullable(result.retryAfter())));
            if (at.isBefore(regular)) {
                slots.put(entry, new Slot(at, retry, regular));
                return new Decision(at, true);
            }
        }
        slots.put(entry, new Slot(regular, 0, regular));
        return new Decision(regular, false);
    }

    private Duration jittered() {
        long ms = interval.toMillis();
        long spread = ms / 10;
        return Duration.ofMillis(ms - spread + (spread == 0 ? 0 : random.nextLong(2 * spread + 1)));
    }
}
