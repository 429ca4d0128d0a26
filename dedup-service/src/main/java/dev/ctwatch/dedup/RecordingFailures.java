package dev.ctwatch.dedup;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Whether a failed attempt to record a row is the infrastructure's (retry it: PostgreSQL or the
 * broker will come back) or the row's own (send it to the dead-letter topic). Only the second may
 * leave the partition: a dead-lettered row is never emitted.
 */
public final class RecordingFailures {

    public enum Verdict {
        /** The same attempt can succeed later: wait and retry, the partition waits. */
        RETRY,
        /** Retrying cannot help: this row goes to the dead-letter topic, the batch goes on. */
        DEAD_LETTER
    }

    /**
     * SQLSTATE classes of failures that are not the row's: connection exception (08), transaction
     * rollback such as a serialization failure or deadlock (40), insufficient resources (53),
     * object not in prerequisite state such as a lock not available (55), operator intervention
     * such as a shutdown or a statement timeout (57), system error (58).
     */
    static final Set<String> TRANSIENT_SQLSTATE_CLASSES = Set.of("08", "40", "53", "55", "57", "58");

    private RecordingFailures() {}

    /**
     * Looks through causes and suppressed exceptions (Narayana reports the database's reason for a
     * failed commit as a suppressed exception of its {@code RollbackException}): the first SQLSTATE
     * found decides; without one, a failed commit, a pool or driver error without state, or a
     * retriable broker error or timeout is transient; anything else is the row's.
     */
    public static Verdict of(Throwable failure) {
        boolean transientWithoutState = false;
        for (Throwable t : causes(failure)) {
            if (t instanceof SQLException sql
                    && sql.getSQLState() != null
                    && sql.getSQLState().length() >= 2) {
                return TRANSIENT_SQLSTATE_CLASSES.contains(sql.getSQLState().substring(0, 2))
                        ? Verdict.RETRY
                        : Verdict.DEAD_LETTER;
            }
            transientWithoutState |= transientWithoutState(t);
        }
        return transientWithoutState ? Verdict.RETRY : Verdict.DEAD_LETTER;
    }

    /** For logs: the database's reason with its SQLSTATE when there is one, else the failure itself. */
    public static String describe(Throwable failure) {
        for (Throwable t : causes(failure)) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return "SQLSTATE " + sql.getSQLState() + ": " + sql.getMessage();
            }
        }
        return failure.toString();
    }

    /** The failure, then its causes and suppressed exceptions breadth-first, each once. */
    private static List<Throwable> causes(Throwable failure) {
        List<Throwable> all = new ArrayList<>();
        Deque<Throwable> todo = new ArrayDeque<>();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        todo.add(failure);
        while (!todo.isEmpty()) {
            Throwable t = todo.poll();
            if (!seen.add(t)) {
                continue;
            }
            all.add(t);
            if (t.getCause() != null) {
                todo.add(t.getCause());
            }
            Collections.addAll(todo, t.getSuppressed());
        }
        return all;
    }

    private static boolean transientWithoutState(Throwable t) {
        return t instanceof SQLTransientException
                || t instanceof SQLRecoverableException
                // the pool's acquisition timeout and a closed connection carry no SQLSTATE
                || t instanceof SQLException
                // the commit itself failed and no database reason was attached
                || t instanceof jakarta.transaction.RollbackException
                || t instanceof jakarta.transaction.HeuristicMixedException
                || t instanceof jakarta.transaction.HeuristicRollbackException
                || t instanceof javax.transaction.xa.XAException
                // the broker did not acknowledge in time, or said to try again
                || t instanceof org.apache.kafka.common.errors.RetriableException
                || t instanceof io.smallrye.mutiny.TimeoutException
                || t instanceof java.util.concurrent.TimeoutException;
    }
}
