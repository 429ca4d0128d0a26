package dev.ctwatch.dedup;

import java.util.List;

/**
 * What the late download of a backfill row's certificate means, given the issuance the row was
 * recorded into and every issuance stored for its issuer and serial. A backfill row was recorded
 * without its TBS hash, so it was folded into whatever issuance had its issuer and serial: the
 * download either confirms that, moves the row to the issuance it really belongs to, or reveals a
 * serial reuse nobody could see before.
 */
public final class BackfillDecision {

    public enum Action {
        /** The issuance had no TBS hash and nothing else has this serial: fill it in. Not emitted again. */
        FILL(Kind.COMPLETED),
        /** The issuance had no TBS hash; another issuance of this serial has a different one: fill it in, emit the reuse. */
        FILL_AS_REUSE(Kind.SERIAL_REUSE),
        /** The issuance had no TBS hash and is the twin of a stored one: merge it into that one. */
        MERGE(Kind.TWIN),
        /** The issuance already had this TBS hash (precertificate/final pair): nothing changes. */
        CONFIRM(Kind.TWIN),
        /** The issuance has another TBS hash, a stored one has this: the row belongs there. */
        MOVE(Kind.TWIN),
        /** No stored issuance has this TBS hash under a serial that has one: a new issuance, emitted as reuse. */
        SPLIT_AS_REUSE(Kind.SERIAL_REUSE);

        private final Kind kind;

        Action(Kind kind) {
            this.kind = kind;
        }

        public Kind kind() {
            return kind;
        }
    }

    /** The outcome as counted ({@code ctwatch_dedup_backfill_completed_total{outcome}}). */
    public enum Kind {
        COMPLETED,
        TWIN,
        SERIAL_REUSE
    }

    private BackfillDecision() {}

    /**
     * @param ownTbs the TBS hash of the issuance the row is linked to ({@link IssuanceDecision#UNKNOWN_TBS} when
     *     it was recorded from rows alone)
     * @param storedTbs the TBS hashes of every issuance with this issuer and serial, the own one included
     * @param downloadedTbs the TBS hash of the certificate just downloaded for the row
     */
    public static Action decide(String ownTbs, List<String> storedTbs, String downloadedTbs) {
        if (downloadedTbs == null || downloadedTbs.equals(IssuanceDecision.UNKNOWN_TBS)) {
            throw new IllegalArgumentException("a downloaded certificate always has a TBS hash");
        }
        if (IssuanceDecision.UNKNOWN_TBS.equals(ownTbs)) {
            if (storedTbs.contains(downloadedTbs)) {
                return Action.MERGE;
            }
            boolean otherKnown = storedTbs.stream().anyMatch(t -> !t.equals(IssuanceDecision.UNKNOWN_TBS));
            return otherKnown ? Action.FILL_AS_REUSE : Action.FILL;
        }
        if (ownTbs.equals(downloadedTbs)) {
            return Action.CONFIRM;
        }
        return storedTbs.contains(downloadedTbs) ? Action.MOVE : Action.SPLIT_AS_REUSE;
    }
}
