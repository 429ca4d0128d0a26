package dev.ctwatch.notifier.digest;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Counts individual new-certificate messages per route over the last minute; over the route's limit
 * the next ones go to a digest. In memory and per replica: a restart or a second replica only lets a
 * few more messages through, which is the safe side.
 */
public final class FloodGuard {
    static final Duration WINDOW = Duration.ofMinutes(1);

    private final Map<String, Deque<Instant>> sent = new HashMap<>();

    /** True (and counted) when one more message fits within {@code limit} per minute. */
    public synchronized boolean allow(String route, int limit, Instant now) {
        Deque<Instant> times = sent.computeIfAbsent(route, r -> new ArrayDeque<>());
        Instant oldest = now.minus(WINDOW);
        while (!times.isEmpty() && !times.peekFirst().isAfter(oldest)) {
            times.pollFirst();
        }
        if (times.size() >= limit) {
            return false;
        }
        times.addLast(now);
        return true;
    }
}
