package dev.ctwatch.caa.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** TTLs with a floor and a ceiling, negative answers, errors never kept, one lookup per name. */
class CaaCacheTest {
    static final Instant T0 = Instant.parse("2026-12-04T10:00:00Z");

    /** A clock the test moves. */
    static final class MutableClock extends Clock {
        Instant now = T0;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final MutableClock clock = new MutableClock();
    final List<String> asked = new ArrayList<>();
    final Map<String, CaaAnswer> answers = Map.of(
            "short.test", CaaAnswer.records("short.test", "short.test", List.of(issue()), 1, null, T0),
            "long.test", CaaAnswer.records("long.test", "long.test", List.of(issue()), 86400, null, T0),
            "nx.test", CaaAnswer.empty("nx.test", 120L, "NXDOMAIN", T0),
            "nosoa.test", CaaAnswer.empty("nosoa.test", null, "NODATA", T0),
            "fail.test", CaaAnswer.error("fail.test", "SERVFAIL", T0));
    final CaaCache cache = new CaaCache(
            name -> {
                asked.add(name);
                return CompletableFuture.completedFuture(answers.get(name));
            },
            clock,
            Duration.ofSeconds(10),
            Duration.ofMinutes(5),
            100);

    static CaaProperty issue() {
        return new CaaProperty(0, "issue", "letsencrypt.org");
    }

    CaaAnswer get(String name) {
        return cache.lookup(name).toCompletableFuture().join();
    }

    @Test
    void aShortTtlIsRaisedToTheFloor() {
        get("short.test");
        clock.now = T0.plusSeconds(9);
        get("short.test");
        clock.now = T0.plusSeconds(10);
        get("short.test");

        assertThat(asked).containsExactly("short.test", "short.test");
        assertThat(cache.hits()).isEqualTo(1);
        assertThat(cache.misses()).isEqualTo(2);
    }

    @Test
    void aLongTtlIsCutToTheCeiling() {
        get("long.test");
        clock.now = T0.plus(Duration.ofMinutes(5)).minusSeconds(1);
        get("long.test");
        clock.now = T0.plus(Duration.ofMinutes(5));
        get("long.test");

        assertThat(asked).containsExactly("long.test", "long.test");
    }

    @Test
    void negativeAnswersAreKeptForTheSoaMinimum() {
        get("nx.test");
        clock.now = T0.plusSeconds(119);
        assertThat(get("nx.test").status()).isEqualTo(CaaAnswer.Status.EMPTY);
        clock.now = T0.plusSeconds(120);
        get("nx.test");
        // without a negative TTL: the floor
        get("nosoa.test");
        clock.now = clock.now.plusSeconds(10);
        get("nosoa.test");

        assertThat(asked).containsExactly("nx.test", "nx.test", "nosoa.test", "nosoa.test");
    }

    @Test
    void errorsAreNeverKept() {
        assertThat(get("fail.test").status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(get("fail.test").status()).isEqualTo(CaaAnswer.Status.ERROR);

        assertThat(asked).containsExactly("fail.test", "fail.test");
    }

    @Test
    void concurrentRequestsForOneNameShareOneLookup() {
        List<CompletableFuture<CaaAnswer>> pending = new ArrayList<>();
        CaaCache slow = new CaaCache(
                name -> {
                    asked.add(name);
                    CompletableFuture<CaaAnswer> f = new CompletableFuture<>();
                    pending.add(f);
                    return f;
                },
                clock,
                Duration.ofSeconds(10),
                Duration.ofMinutes(5),
                100);

        List<CompletionStage<CaaAnswer>> waiting = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            waiting.add(slow.lookup("x.test"));
        }
        pending.get(0).complete(CaaAnswer.records("x.test", "x.test", List.of(issue()), 60, null, T0));

        assertThat(asked).containsExactly("x.test");
        assertThat(slow.coalesced()).isEqualTo(99);
        assertThat(waiting)
                .allSatisfy(
                        w -> assertThat(w.toCompletableFuture().join().status()).isEqualTo(CaaAnswer.Status.RECORDS));
        slow.lookup("x.test");
        assertThat(slow.hits()).isEqualTo(1);
    }

    @Test
    void aFailingSourceBecomesAnErrorAnswer() {
        CaaCache failing = new CaaCache(
                name -> CompletableFuture.failedFuture(new IllegalStateException("boom")),
                clock,
                Duration.ofSeconds(10),
                Duration.ofMinutes(5),
                100);

        CaaAnswer answer = failing.lookup("x.test").toCompletableFuture().join();

        assertThat(answer.status()).isEqualTo(CaaAnswer.Status.ERROR);
        assertThat(answer.detail()).contains("boom");
    }

    @Test
    void theCacheStaysBounded() {
        CaaCache small = new CaaCache(
                name -> CompletableFuture.completedFuture(
                        CaaAnswer.records(name, name, List.of(issue()), 60, null, T0)),
                clock,
                Duration.ofSeconds(10),
                Duration.ofMinutes(5),
                10);
        for (int i = 0; i < 100; i++) {
            small.lookup("n" + i + ".test").toCompletableFuture().join();
        }

        assertThat(small.size()).isLessThanOrEqualTo(10);
    }
}
