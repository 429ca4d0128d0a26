package dev.ctwatch.caa;

/** Where the evaluator gets CAA record sets from: DNS in production, a scenario table in tests. */
@FunctionalInterface
public interface CaaRecordSource {
    /**
     * The CAA record set at exactly {@code name} (no trailing dot), aliases followed, no climbing.
     * DNS failures are {@link CaaAnswer.Status#ERROR} answers, not exceptions.
     */
    CaaAnswer lookup(String name);
}
