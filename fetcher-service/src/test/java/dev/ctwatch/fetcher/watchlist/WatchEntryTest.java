package dev.ctwatch.fetcher.watchlist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ctwatch.events.CrtShRow;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WatchEntryTest {

    @Test
    void subdomainsAndWildcardsMatchOnlyWhenWatched() {
        WatchEntry tree = new WatchEntry("Example.COM.", true, Map.of());
        WatchEntry exact = new WatchEntry("example.com", false, Map.of());
        assertThat(tree.domain()).isEqualTo("example.com");
        assertThat(tree.matches("www.example.com")).isTrue();
        assertThat(tree.matches("*.example.com")).isTrue();
        assertThat(exact.matches("example.com")).isTrue();
        assertThat(exact.matches("www.example.com")).isFalse();
        assertThat(exact.matches("*.example.com")).isFalse();
    }

    @Test
    void lookalikesAreNotSubdomains() {
        WatchEntry tree = new WatchEntry("example.com", true, Map.of());
        assertThat(tree.matches("badexample.com")).isFalse();
        assertThat(tree.matches("example.com.evil.test")).isFalse();
    }

    @Test
    void idnsBecomePunycode() {
        assertThat(new WatchEntry("bücher.example", true, Map.of()).domain()).isEqualTo("xn--bcher-kva.example");
    }

    @Test
    void invalidEntriesNameThemselves() {
        assertThatThrownBy(() -> new WatchEntry("exa mple.com", true, Map.of())).hasMessageContaining("'exa mple.com'");
        assertThatThrownBy(() -> new WatchEntry("localhost", true, Map.of())).hasMessageContaining("'localhost'");
        assertThatThrownBy(() -> new Watchlist(
                        List.of(new WatchEntry("a.test", true, Map.of()), new WatchEntry("A.test", false, Map.of()))))
                .hasMessageContaining("'a.test' is listed twice");
    }

    @Test
    void aRowMatchesEveryEntryItFallsUnderWithItsLabels() {
        Watchlist list = new Watchlist(List.of(
                new WatchEntry("crt.sh", true, Map.of("team", "pki")), new WatchEntry("other.test", true, Map.of())));
        CrtShRow row = new CrtShRow(1L, 1L, "CN=x", null, "*.crt.sh\ncrt.sh", null, null, null, "01", 2);
        assertThat(list.matches(row)).singleElement().satisfies(m -> {
            assertThat(m.domain()).isEqualTo("crt.sh");
            assertThat(m.labels()).containsEntry("team", "pki");
        });
    }
}
