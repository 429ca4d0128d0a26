package dev.ctwatch.events;

import java.util.Map;

/**
 * A watch entry that matched a certificate: the watched domain as configured (punycode), whether
 * its subdomains are watched too, and its labels (e.g. {@code team=payments}) for routing.
 */
public record WatchMatch(String domain, boolean includeSubdomains, Map<String, String> labels) {
    public WatchMatch {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
}
