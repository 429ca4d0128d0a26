package dev.ctwatch.caa.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.caa.dns.CaaProperty;
import dev.ctwatch.caa.history.EvidenceGrader.Observation;
import dev.ctwatch.caa.policy.RelevantSet;
import dev.ctwatch.events.Finding.Evidence;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SUSTAINED only when our history covers the whole window and never authorised the issuer. */
class EvidenceGraderTest {
    static final Instant START = Instant.parse("2026-12-04T02:00:00Z");
    static final Instant END = Instant.parse("2026-12-04T12:00:00Z");
    static final Set<String> LE = Set.of("letsencrypt.org");
    static final List<CaaProperty> DENY = List.of(new CaaProperty(0, "issue", "ca.example.net"));
    static final List<CaaProperty> ALLOW = List.of(new CaaProperty(0, "issue", "letsencrypt.org"));
    static final List<CaaProperty> WILD_ALLOW =
            List.of(new CaaProperty(0, "issue", "ca.example.net"), new CaaProperty(0, "issuewild", "letsencrypt.org"));

    static Observation obs(List<CaaProperty> records, String from, String to) {
        return new Observation(
                "example.test",
                RelevantSet.Kind.RECORDS,
                "example.test",
                records,
                300L,
                Instant.parse("2026-12-04T" + from + ":00Z"),
                Instant.parse("2026-12-04T" + to + ":00Z"));
    }

    static Observation error(String from, String to) {
        return new Observation(
                "example.test",
                RelevantSet.Kind.ERROR,
                "example.test",
                List.of(),
                null,
                Instant.parse("2026-12-04T" + from + ":00Z"),
                Instant.parse("2026-12-04T" + to + ":00Z"));
    }

    static Stream<Arguments> histories() {
        return Stream.of(
                Arguments.of("no history", List.of(), false, Evidence.OBSERVED),
                Arguments.of("covers the window", List.of(obs(DENY, "01:00", "12:00")), false, Evidence.SUSTAINED),
                Arguments.of(
                        "two rows, no gap",
                        List.of(obs(DENY, "01:00", "06:00"), obs(DENY, "06:10", "12:00")),
                        false,
                        Evidence.SUSTAINED),
                Arguments.of(
                        "starts after the window opened",
                        List.of(obs(DENY, "03:00", "12:00")),
                        false,
                        Evidence.OBSERVED),
                Arguments.of(
                        "a gap longer than max-gap",
                        List.of(obs(DENY, "01:00", "06:00"), obs(DENY, "07:00", "12:00")),
                        false,
                        Evidence.OBSERVED),
                Arguments.of(
                        "authorised for a while",
                        List.of(obs(DENY, "01:00", "06:00"), obs(ALLOW, "06:05", "07:00"), obs(DENY, "07:05", "12:00")),
                        false,
                        Evidence.OBSERVED),
                Arguments.of(
                        "an error in the window",
                        List.of(obs(DENY, "01:00", "06:00"), error("06:05", "06:10"), obs(DENY, "06:15", "12:00")),
                        false,
                        Evidence.OBSERVED),
                Arguments.of("ends before the audit", List.of(obs(DENY, "01:00", "10:00")), false, Evidence.OBSERVED),
                Arguments.of(
                        "issuewild judges wildcards",
                        List.of(obs(WILD_ALLOW, "01:00", "12:00")),
                        true,
                        Evidence.OBSERVED),
                Arguments.of(
                        "issue judges plain names",
                        List.of(obs(WILD_ALLOW, "01:00", "12:00")),
                        false,
                        Evidence.SUSTAINED));
    }

    @ParameterizedTest(name = "{0} -> {3}")
    @MethodSource("histories")
    void grade(String why, List<Observation> history, boolean wildcard, Evidence expected) {
        EvidenceGrader.Grade grade =
                new EvidenceGrader(Duration.ofMinutes(15)).grade(history, START, END, wildcard, LE);

        assertThat(grade.evidence()).as(grade.detail()).isEqualTo(expected);
    }
}
