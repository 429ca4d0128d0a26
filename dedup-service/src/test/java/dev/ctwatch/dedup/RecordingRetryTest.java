package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ctwatch.dedup.RecordingFailures.Verdict;
import io.quarkus.narayana.jta.QuarkusTransactionException;
import jakarta.persistence.PersistenceException;
import jakarta.transaction.RollbackException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.transaction.xa.XAException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RecordingRetryTest {

    /** What a failure looks like when it reaches the consumer, and what must happen to its row. */
    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of("commit failed: serialization failure", commitFailed("40001"), Verdict.RETRY),
                Arguments.of("commit failed: deadlock", commitFailed("40P01"), Verdict.RETRY),
                Arguments.of("commit failed: connection lost", commitFailed("08006"), Verdict.RETRY),
                Arguments.of("commit failed: server shutting down", commitFailed("57P01"), Verdict.RETRY),
                Arguments.of("commit failed: no database reason attached", commitFailed(null), Verdict.RETRY),
                Arguments.of(
                        "statement: connection refused",
                        new PersistenceException(new SQLException("refused", "08001")),
                        Verdict.RETRY),
                Arguments.of(
                        "statement: too many connections",
                        new PersistenceException(new SQLException("too many", "53300")),
                        Verdict.RETRY),
                Arguments.of(
                        "statement: statement timeout",
                        new PersistenceException(new SQLException("canceled", "57014")),
                        Verdict.RETRY),
                Arguments.of(
                        "pool: acquisition timeout",
                        new PersistenceException(new SQLException("Sorry, acquisition timeout!")),
                        Verdict.RETRY),
                Arguments.of(
                        "broker: no acknowledgement in time", new io.smallrye.mutiny.TimeoutException(), Verdict.RETRY),
                Arguments.of(
                        "broker: not enough replicas",
                        new RuntimeException(new org.apache.kafka.common.errors.NotEnoughReplicasException("x")),
                        Verdict.RETRY),
                Arguments.of(
                        "commit failed: the row breaks a deferred constraint",
                        commitFailed("23503"),
                        Verdict.DEAD_LETTER),
                Arguments.of(
                        "statement: value out of range",
                        new PersistenceException(new SQLException("out of range", "22003")),
                        Verdict.DEAD_LETTER),
                Arguments.of(
                        "statement: not null violated",
                        new PersistenceException(new SQLException("null", "23502")),
                        Verdict.DEAD_LETTER),
                Arguments.of(
                        "broker: record too large",
                        new RuntimeException(new org.apache.kafka.common.errors.RecordTooLargeException("x")),
                        Verdict.DEAD_LETTER),
                Arguments.of("a bug", new NullPointerException(), Verdict.DEAD_LETTER),
                Arguments.of(
                        "a row the code cannot take", new IllegalArgumentException("serial"), Verdict.DEAD_LETTER));
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("failures")
    void failuresAreTheInfrastructuresOrTheRows(String what, RuntimeException failure, Verdict expected) {
        assertThat(RecordingFailures.of(failure)).isEqualTo(expected);
    }

    @Test
    void theDatabasesReasonIsWhatTheLogsShow() {
        assertThat(RecordingFailures.describe(commitFailed("40001"))).isEqualTo("SQLSTATE 40001: ERROR: injected");
        assertThat(RecordingFailures.describe(new NullPointerException("x")))
                .isEqualTo("java.lang.NullPointerException: x");
    }

    @Test
    void transientFailuresAreRetriedWithADoublingCappedDelayUntilTheAttemptSucceeds() {
        List<Duration> slept = new ArrayList<>();
        List<Integer> told = new ArrayList<>();
        RecordingRetry retry =
                new RecordingRetry(Duration.ofMillis(500), Duration.ofSeconds(3), slept::add, (n, d, e) -> told.add(n));
        AtomicInteger attempts = new AtomicInteger();
        String result = retry.call(() -> {
            if (attempts.incrementAndGet() <= 5) {
                throw commitFailed("40001");
            }
            return "committed";
        });
        assertThat(result).isEqualTo("committed");
        assertThat(attempts).hasValue(6);
        assertThat(told).containsExactly(1, 2, 3, 4, 5);
        assertThat(slept)
                .containsExactly(
                        Duration.ofMillis(500),
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(3),
                        Duration.ofSeconds(3));
    }

    @Test
    void aRowsOwnFailureIsThrownAtOnce() {
        List<Duration> slept = new ArrayList<>();
        RecordingRetry retry =
                new RecordingRetry(Duration.ofMillis(500), Duration.ofSeconds(3), slept::add, (n, d, e) -> {});
        RuntimeException own = new PersistenceException(new SQLException("null", "23502"));
        assertThatThrownBy(() -> retry.call(() -> {
                    throw own;
                }))
                .isSameAs(own);
        assertThat(slept).isEmpty();
    }

    @Test
    void anInterruptedWaitGivesUpWithTheTransientFailure() {
        RecordingRetry retry = new RecordingRetry(
                Duration.ofMillis(500),
                Duration.ofSeconds(3),
                d -> {
                    throw new InterruptedException("stopping");
                },
                (n, d, e) -> {});
        RuntimeException failure = commitFailed("08006");
        try {
            assertThatThrownBy(() -> retry.call(() -> {
                        throw failure;
                    }))
                    .isSameAs(failure);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void delaysMustBePositiveAndOrdered() {
        assertThatThrownBy(() -> new RecordingRetry(Duration.ZERO, Duration.ofSeconds(1), d -> {}, (n, d, e) -> {}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() ->
                        new RecordingRetry(Duration.ofSeconds(2), Duration.ofSeconds(1), d -> {}, (n, d, e) -> {}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * The shape Narayana gives a failed commit (seen in TransientCommitFailureTest): the database's
     * reason is a suppressed exception of the RollbackException, not its cause.
     */
    private static RuntimeException commitFailed(String sqlState) {
        RollbackException rollback = new RollbackException("ARJUNA016053: Could not commit transaction.");
        XAException xa = new XAException("Error trying to transactionCommit local transaction");
        if (sqlState != null) {
            xa.initCause(new SQLException("ERROR: injected", sqlState));
        }
        rollback.addSuppressed(xa);
        return new QuarkusTransactionException(rollback);
    }
}
