package dev.ctwatch.fetcher.watchlist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.WatchMatch;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WatchlistTest {
    private final List<WatchEntry> entries = List.of(
            new WatchEntry("example.com", true, Map.of("team", "web")),
            new WatchEntry("shop.example.com", false, Map.of("team", "shop")),
            new WatchEntry("example.org", false, Map.of()),
            new WatchEntry("deep.a.example.net", true, Map.of()));
    private final Watchlist list = new Watchlist(entries);

    @Test
    void theListMatchesExactlyWhatEachEntrySaysInListOrder() {
        List<String> names = List.of(
                "example.com",
                "WWW.Example.COM.",
                "*.example.com",
                "shop.example.com",
                "www.shop.example.com",
                "*.shop.example.com",
                "example.org",
                "www.example.org",
                "*.example.org",
                "badexample.com",
                "example.com.evil.test",
                "x.deep.a.example.net",
                "a.example.net",
                "deep.a.example.net");
        for (String name : names) {
            List<String> expected = entries.stream()
                    .filter(e -> e.matches(name))
                    .map(WatchEntry::domain)
                    .toList();
            assertThat(list.matches(row(name)))
                    .as(name)
                    .extracting(WatchMatch::domain)
                    .containsExactlyElementsOf(expected);
        }
    }

    @Test
    void aRowWithSeveralNamesNamesEachEntryOnceInListOrder() {
        CrtShRow row = row("www.shop.example.com\nshop.example.com\nexample.com\nwww.example.org");
        assertThat(list.matches(row)).extracting(WatchMatch::domain).containsExactly("example.com", "shop.example.com");
    }

    private static CrtShRow row(String nameValue) {
        return new CrtShRow(1L, 2L, "C=ZZ, O=test, CN=Test CA", null, nameValue, null, null, null, "01", 1);
    }
}
