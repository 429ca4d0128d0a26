package dev.ctwatch.fetcher.watchlist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchlistFileTest {
    @TempDir
    Path dir;

    @Test
    void yamlJsonAndPropertiesSayTheSame() throws Exception {
        Path yaml = Files.writeString(dir.resolve("w.yaml"), """
                watchlist:
                  - domain: Bücher.example
                    labels: {team: pki}
                  - domain: exact.test
                    include-subdomains: false
                """);
        Path json = Files.writeString(dir.resolve("w.json"), """
                [{"domain": "bücher.example", "labels": {"team": "pki"}},
                 {"domain": "exact.test", "include-subdomains": false}]
                """);
        Path properties = Files.writeString(dir.resolve("w.properties"), """
                watchlist[0].domain=xn--bcher-kva.example
                watchlist[0].labels.team=pki
                fetcher.watchlist[1].domain=exact.test
                fetcher.watchlist[1].include-subdomains=false
                """);
        var expected = java.util.List.of(
                new WatchEntry("xn--bcher-kva.example", true, Map.of("team", "pki")),
                new WatchEntry("exact.test", false, Map.of()));
        assertThat(WatchlistFile.read(yaml)).isEqualTo(expected);
        assertThat(WatchlistFile.read(json)).isEqualTo(expected);
        assertThat(WatchlistFile.read(properties)).isEqualTo(expected);
    }

    @Test
    void anInvalidEntryNamesTheFileAndTheEntry() throws Exception {
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), "- domain: ok.test\n- domain: not a domain\n");
        assertThatThrownBy(() -> WatchlistFile.read(yaml))
                .hasMessageContaining("bad.yaml")
                .hasMessageContaining("'not a domain'");
        Path props = Files.writeString(dir.resolve("bad.properties"), "watchlist[0].domian=x.test\n");
        assertThatThrownBy(() -> WatchlistFile.read(props)).hasMessageContaining("watchlist[0].domian");
    }
}
