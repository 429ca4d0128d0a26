package dev.ctwatch.caa.history;

import dev.ctwatch.caa.dns.CaaProperty;
import dev.ctwatch.caa.policy.CaaEvaluator;
import dev.ctwatch.caa.policy.IssuanceContext;
import dev.ctwatch.caa.policy.RelevantSet;
import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.Finding;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Grades a FORBIDDEN name by our own history (CAA-SPEC §8): SUSTAINED when stored observations cover
 * the whole evidence window without a gap longer than {@code maxGap} and none of them authorised the
 * issuer; otherwise OBSERVED (the current answer only).
 */
public final class EvidenceGrader {

    /**
     * One stored answer for a name, seen continuously from {@code firstSeen} to {@code lastSeen}
     * (the history starts a new row after a gap).
     */
    public record Observation(
            String queriedName,
            RelevantSet.Kind kind,
            String owner,
            List<CaaProperty> records,
            Long ttlSeconds,
            Instant firstSeen,
            Instant lastSeen) {
        public Observation {
            records = records == null ? List.of() : List.copyOf(records);
        }
    }

    /** The grade, with a few words on why. */
    public record Grade(Finding.Evidence evidence, String detail) {}

    private final Duration maxGap;

    public EvidenceGrader(Duration maxGap) {
        this.maxGap = maxGap;
    }

    public Grade grade(
            List<Observation> history,
            Instant windowStart,
            Instant windowEnd,
            boolean wildcard,
            Set<String> identities) {
        if (windowStart == null) {
            return new Grade(Finding.Evidence.OBSERVED, "no evidence window");
        }
        List<Observation> inWindow = history.stream()
                .filter(o -> !o.lastSeen().plus(maxGap).isBefore(windowStart)
                        && !o.firstSeen().isAfter(windowEnd))
                .sorted(Comparator.comparing(Observation::firstSeen))
                .toList();
        if (inWindow.isEmpty() || inWindow.get(0).firstSeen().isAfter(windowStart)) {
            return new Grade(Finding.Evidence.OBSERVED, "our history does not reach back to " + windowStart);
        }
        Instant covered = inWindow.get(0).firstSeen();
        for (Observation o : inWindow) {
            if (o.firstSeen().isAfter(covered.plus(maxGap))) {
                return new Grade(Finding.Evidence.OBSERVED, "our history has a gap from " + covered);
            }
            if (o.kind() != RelevantSet.Kind.RECORDS) {
                return new Grade(
                        Finding.Evidence.OBSERVED,
                        "at " + o.firstSeen() + " we saw "
                                + (o.kind() == RelevantSet.Kind.NONE ? "no CAA" : "an error"));
            }
            CaaOutcome outcome = CaaEvaluator.decide(o.records(), wildcard, identities, IssuanceContext.UNKNOWN)
                    .outcome();
            if (outcome != CaaOutcome.FORBIDDEN) {
                return new Grade(Finding.Evidence.OBSERVED, "from " + o.firstSeen() + " the records said " + outcome);
            }
            if (o.lastSeen().isAfter(covered)) {
                covered = o.lastSeen();
            }
        }
        if (covered.plus(maxGap).isBefore(windowEnd)) {
            return new Grade(Finding.Evidence.OBSERVED, "our history ends at " + covered);
        }
        return new Grade(
                Finding.Evidence.SUSTAINED,
                inWindow.size() + " stored observation(s) from "
                        + inWindow.get(0).firstSeen() + " to " + covered + " never authorised the issuer");
    }
}
