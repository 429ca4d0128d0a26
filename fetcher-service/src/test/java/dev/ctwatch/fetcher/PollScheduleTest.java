package dev.ctwatch.fetcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.fetcher.crtsh.Backoff;
import dev.ctwatch.fetcher.crtsh.CrtShAnswer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PollScheduleTest {
    private static final Duration INTERVAL = Duration.ofMinutes(10);
    private final Instant t0 = Instant.parse("2026-03-01T10:00:00Z");
    private final PollSchedule schedule = new PollSchedule(
            INTERVAL,
            Duration.ofSeconds(5),
            new Backoff(Duration.ofSeconds(15), Duration.ofMinutes(10), new Random(1)),
            new Random(2));

    @Test
    void firstPollsAreSpreadOverOneInterval() {
        List<String> entries = List.of("a.test", "b.test", "c.test", "d.test", "e.test");
        schedule.watch(entries, t0);
        List<Instant> firsts =
                entries.stream().map(e -> schedule.slot(e).nextAt()).distinct().toList();
        assertThat(firsts)
                .hasSize(5)
                .allSatisfy(at -> assertThat(at)
                        .isBetween(t0.plusSeconds(5), t0.plusSeconds(5).plus(INTERVAL)));
        assertThat(schedule.due(t0.plus(INTERVAL).plusSeconds(5))).containsExactlyInAnyOrderElementsOf(entries);
    }

    @Test
    void successWaitsAboutOneIntervalWithJitter() {
        schedule.watch(List.of("a.test"), t0);
        PollSchedule.Decision next = schedule.after("a.test", t0, result(CrtShAnswer.Outcome.SUCCESS, null));
        assertThat(next.retry()).isFalse();
        assertThat(next.nextAt()).isBetween(t0.plus(Duration.ofMinutes(9)), t0.plus(Duration.ofMinutes(11)));
    }

    @Test
    void inputErrorsWaitForTheNextPollWhileOutagesAreRetriedUntilThen() {
        schedule.watch(List.of("a.test"), t0);
        assertThat(schedule.after("a.test", t0, result(CrtShAnswer.Outcome.INPUT_ERROR, null))
                        .retry())
                .isFalse();

        PollSchedule.Decision retry = schedule.after("a.test", t0, result(CrtShAnswer.Outcome.UNAVAILABLE, null));
        assertThat(retry.retry()).isTrue();
        assertThat(retry.nextAt()).isBetween(t0.plusMillis(7_500), t0.plusSeconds(15));
        Instant regular = schedule.slot("a.test").regularAt();

        Instant now = retry.nextAt();
        int retries = 1;
        PollSchedule.Decision next;
        do {
            next = schedule.after("a.test", now, result(CrtShAnswer.Outcome.UNAVAILABLE, null));
            now = next.nextAt();
            retries++;
        } while (next.retry());
        // retries back off, but the regular poll of the cycle is not pushed back
        assertThat(next.nextAt()).isEqualTo(regular);
        assertThat(retries).isBetween(3, 8);
    }

    @Test
    void retryAfterBeyondTheNextPollMeansTheNextPoll() {
        schedule.watch(List.of("a.test"), t0);
        PollSchedule.Decision next =
                schedule.after("a.test", t0, result(CrtShAnswer.Outcome.UNAVAILABLE, Duration.ofMinutes(30)));
        assertThat(next.retry()).isFalse();
        assertThat(next.nextAt()).isBefore(t0.plus(Duration.ofMinutes(12)));
    }

    @Test
    void removedEntriesLeaveTheSchedule() {
        schedule.watch(List.of("a.test", "b.test"), t0);
        schedule.watch(List.of("b.test"), t0);
        assertThat(schedule.slot("a.test")).isNull();
        assertThat(schedule.slot("b.test")).isNotNull();
    }

    private static CrtShAnswer.Result result(CrtShAnswer.Outcome outcome, Duration retryAfter) {
        return new CrtShAnswer.Result(outcome, 0, 0, null, retryAfter);
    }
}
