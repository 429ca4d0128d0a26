package dev.ctwatch.caa.dns;

import java.util.concurrent.CompletionStage;

/** Where the evaluator gets CAA record sets from: DNS in production, a scenario table in tests. */
@FunctionalInterface
public interface CaaRecordSource {
    /**
     * The CAA record set at exactly {@code name} (no trailing dot), aliases followed, no climbing.
     * DNS failures complete normally as {@link CaaAnswer.Status#ERROR} answers.
     */
    CompletionStage<CaaAnswer> lookup(String name);
}
