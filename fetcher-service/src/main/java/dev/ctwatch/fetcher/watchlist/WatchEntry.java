package dev.ctwatch.fetcher.watchlist;

import dev.ctwatch.events.WatchMatch;
import java.net.IDN;
import java.util.Locale;
import java.util.Map;

/** One watched domain, normalised to lowercase punycode. */
public record WatchEntry(String domain, boolean includeSubdomains, Map<String, String> labels) {

    public WatchEntry {
        domain = normalise(domain);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** Lowercase punycode without a trailing dot; rejects what cannot be a DNS name. */
    static String normalise(String domain) {
        if (domain == null || domain.isBlank()) {
            throw new IllegalArgumentException("watch entry has no domain");
        }
        String trimmed = domain.strip();
        if (trimmed.endsWith(".")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        String ascii;
        try {
            ascii = IDN.toASCII(trimmed, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "watch entry '" + domain + "' is not a valid domain name: " + e.getMessage());
        }
        if (!ascii.contains(".")) {
            throw new IllegalArgumentException("watch entry '" + domain + "' must have at least two labels");
        }
        return ascii;
    }

    /** Whether a name from a certificate (possibly a wildcard) falls under this entry. */
    public boolean matches(String certificateName) {
        String name = certificateName.strip().toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.equals(domain)) {
            return true;
        }
        if (name.startsWith("*.") && name.substring(2).equals(domain)) {
            // *.example.com covers names below the domain, not the domain itself
            return includeSubdomains;
        }
        return includeSubdomains && name.endsWith("." + domain);
    }

    public WatchMatch toMatch() {
        return new WatchMatch(domain, includeSubdomains, labels);
    }
}
