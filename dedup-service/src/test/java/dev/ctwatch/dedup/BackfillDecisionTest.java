package dev.ctwatch.dedup;

import static dev.ctwatch.dedup.IssuanceDecision.UNKNOWN_TBS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ctwatch.dedup.BackfillDecision.Action;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackfillDecisionTest {

    @Test
    void theOnlyIssuanceOfItsSerialIsFilledInWithoutAnotherEvent() {
        assertThat(BackfillDecision.decide(UNKNOWN_TBS, List.of(UNKNOWN_TBS), "aa"))
                .isEqualTo(Action.FILL);
        assertThat(Action.FILL.kind()).isEqualTo(BackfillDecision.Kind.COMPLETED);
    }

    @Test
    void anIncompleteIssuanceTwinOfAStoredOneIsMergedIntoIt() {
        assertThat(BackfillDecision.decide(UNKNOWN_TBS, List.of("aa", UNKNOWN_TBS), "aa"))
                .isEqualTo(Action.MERGE);
    }

    @Test
    void anIncompleteIssuanceWhoseSerialAnotherCertificateHoldsIsSerialReuse() {
        assertThat(BackfillDecision.decide(UNKNOWN_TBS, List.of("aa", UNKNOWN_TBS), "bb"))
                .isEqualTo(Action.FILL_AS_REUSE);
        assertThat(Action.FILL_AS_REUSE.kind()).isEqualTo(BackfillDecision.Kind.SERIAL_REUSE);
    }

    @Test
    void theSecondRowOfAPairConfirmsTheHashTheFirstFilledIn() {
        assertThat(BackfillDecision.decide("aa", List.of("aa"), "aa")).isEqualTo(Action.CONFIRM);
    }

    @Test
    void aRowFoldedIntoTheWrongIssuanceMovesToItsTwin() {
        assertThat(BackfillDecision.decide("aa", List.of("aa", "bb"), "bb")).isEqualTo(Action.MOVE);
    }

    @Test
    void aRowFoldedIntoACompletedIssuanceWithAnotherHashIsSerialReuse() {
        // the precertificate/final pair assumption was wrong: the CA reused the serial
        assertThat(BackfillDecision.decide("aa", List.of("aa"), "bb")).isEqualTo(Action.SPLIT_AS_REUSE);
        assertThat(Action.SPLIT_AS_REUSE.kind()).isEqualTo(BackfillDecision.Kind.SERIAL_REUSE);
    }

    @Test
    void aDownloadWithoutHashIsAProgrammingError() {
        assertThatThrownBy(() -> BackfillDecision.decide(UNKNOWN_TBS, List.of(UNKNOWN_TBS), UNKNOWN_TBS))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
