package dev.ctwatch.fetcher.watchlist;

import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.WatchMatch;
import dev.ctwatch.fetcher.FetcherConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The watched entries, in configuration order, with the matching of crt.sh rows against them. */
public final class Watchlist {
    private final Map<String, WatchEntry> entries = new LinkedHashMap<>();

    /** An empty list is refused: a fetcher watching nothing looks exactly like one that finds nothing. */
    public Watchlist(List<WatchEntry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException(
                    "the watchlist is empty: configure fetcher.watchlist or fetcher.watchlist-file");
        }
        for (WatchEntry entry : entries) {
            if (this.entries.putIfAbsent(entry.domain(), entry) != null) {
                throw new IllegalArgumentException("watch entry '" + entry.domain() + "' is listed twice");
            }
        }
    }

    /** Builds the list from configuration; an invalid entry stops start-up with its name in the message. */
    public static Watchlist from(FetcherConfig config) {
        List<WatchEntry> entries = new ArrayList<>();
        for (FetcherConfig.Entry e : config.watchlist().orElse(List.of())) {
            entries.add(new WatchEntry(e.domain(), e.includeSubdomains(), e.labels()));
        }
        return new Watchlist(entries);
    }

    public List<WatchEntry> entries() {
        return List.copyOf(entries.values());
    }

    public Optional<WatchEntry> entry(String domain) {
        return Optional.ofNullable(entries.get(WatchEntry.normalise(domain)));
    }

    /** Every entry that one of the row's names falls under: crt.sh also matches subject fields and substrings. */
    public List<WatchMatch> matches(CrtShRow row) {
        List<String> names = row.names();
        List<WatchMatch> matches = new ArrayList<>();
        for (WatchEntry entry : entries.values()) {
            if (names.stream().anyMatch(entry::matches)) {
                matches.add(entry.toMatch());
            }
        }
        return matches;
    }
}
