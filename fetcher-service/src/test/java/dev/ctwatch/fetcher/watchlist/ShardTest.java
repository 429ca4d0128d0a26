package dev.ctwatch.fetcher.watchlist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ShardTest {
    private static final List<String> DOMAINS =
            IntStream.range(0, 300).mapToObj(i -> "team" + i + ".example.com").toList();

    @Test
    void everyEntryIsPolledByExactlyOneReplica() {
        for (int count = 1; count <= 5; count++) {
            List<Shard> replicas = shards(count);
            for (String domain : DOMAINS) {
                assertThat(replicas.stream().filter(s -> s.owns(domain))).hasSize(1);
            }
        }
    }

    @Test
    void theSplitIsRoughlyEvenAndStable() {
        List<Shard> three = shards(3);
        for (Shard shard : three) {
            long owned = DOMAINS.stream().filter(shard::owns).count();
            assertThat(owned).isBetween(70L, 130L);
        }
        // pinned: replicas of different releases must agree on where an entry goes during a rollout
        assertThat(Shard.of("example.com", 3)).isZero();
        assertThat(Shard.of("github.com", 3)).isEqualTo(2);
        assertThat(Shard.of("eesp.ch", 4)).isEqualTo(3);
        assertThat(Shard.of("github.com", 4)).isZero();
    }

    @Test
    void theIndexComesFromConfigurationOrTheStatefulSetOrdinal() {
        assertThat(Shard.of(1, Optional.empty(), "fetcher-7f9c")).isEqualTo(Shard.ALL);
        assertThat(Shard.of(3, Optional.empty(), "fetcher-service-2")).isEqualTo(new Shard(2, 3));
        assertThat(Shard.of(3, Optional.of(1), "fetcher-service-2")).isEqualTo(new Shard(1, 3));
        assertThatThrownBy(() -> Shard.of(3, Optional.empty(), "fetcher-service"))
                .hasMessageContaining("fetcher.shard.index");
        assertThatThrownBy(() -> Shard.of(3, Optional.empty(), "fetcher-service-3"))
                .hasMessageContaining("index must be in [0, count)");
        assertThatThrownBy(() -> new Shard(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static List<Shard> shards(int count) {
        return IntStream.range(0, count).mapToObj(i -> new Shard(i, count)).toList();
    }
}
