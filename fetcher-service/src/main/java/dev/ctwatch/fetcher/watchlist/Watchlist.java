package dev.ctwatch.fetcher.watchlist;

import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.WatchMatch;
import dev.ctwatch.fetcher.FetcherConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The watched entries, in configuration order, with the matching of crt.sh rows against them. */
public final class Watchlist {
    private final Map<String, WatchEntry> entries = new LinkedHashMap<>();
    private final Map<String, Integer> order = new java.util.HashMap<>();

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
            order.put(entry.domain(), order.size());
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

    /**
     * Every entry that one of the row's names falls under, in list order: crt.sh also matches
     * subject fields and substrings. Each name is looked up with its parent domains (a hash lookup
     * per label, not a comparison per entry), the same rule as {@link WatchEntry#matches}.
     */
    public List<WatchMatch> matches(CrtShRow row) {
        List<WatchEntry> found = new ArrayList<>(1);
        for (String certificateName : row.names()) {
            String name = certificateName.toLowerCase(Locale.ROOT);
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1);
            }
            WatchEntry exact = entries.get(name);
            if (exact != null && !found.contains(exact)) {
                found.add(exact);
            }
            for (int dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
                WatchEntry parent = entries.get(name.substring(dot + 1));
                if (parent != null && parent.includeSubdomains() && !found.contains(parent)) {
                    found.add(parent);
                }
            }
        }
        if (found.size() > 1) {
            found.sort(java.util.Comparator.comparingInt(e -> order.get(e.domain())));
        }
        return found.stream().map(WatchEntry::toMatch).toList();
    }
}
