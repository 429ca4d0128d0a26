package dev.ctwatch.fetcher.crtsh;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventJson;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Reads one crt.sh JSON answer as a stream of rows, so a large answer never sits in memory whole.
 * crt.sh's HTTP status is no success signal: only 200 + application/json + a JSON array is one.
 */
public final class CrtShAnswer {

    /** How a poll ended, as data. */
    public enum Outcome {
        SUCCESS,
        /** 200 with HTML: crt.sh rejected the query itself; retrying the same query cannot help. */
        INPUT_ERROR,
        /** Overload, rate limit, outage or a broken body: worth retrying later. */
        UNAVAILABLE,
        /** A JSON body that is not crt.sh's row shape. */
        MALFORMED,
        /** Another 4xx, e.g. 403 for a blocked User-Agent: the operator must act, retrying will not help. */
        REFUSED,
        /** The rows were read but the broker did not acknowledge them all. */
        PUBLISH_FAILED,
        /** crt.sh was not asked: the circuit breaker is open after repeated failures. */
        CIRCUIT_OPEN;

        /** Worth another attempt before the next regular poll. */
        public boolean retryable() {
            return this == UNAVAILABLE || this == PUBLISH_FAILED || this == CIRCUIT_OPEN;
        }
    }

    /**
     * @param retryAfter how long crt.sh (or the open breaker) asked us to wait, else null
     */
    public record Result(Outcome outcome, long rows, long identityRows, String detail, Duration retryAfter) {
        public Result(Outcome outcome, long rows, long identityRows, String detail) {
            this(outcome, rows, identityRows, detail, null);
        }

        public Result withRetryAfter(Duration wait) {
            return new Result(outcome, rows, identityRows, detail, wait);
        }

        public Result withDetail(String text) {
            return new Result(outcome, rows, identityRows, text, retryAfter);
        }

        /** crt.sh caps an identity query at 10,000 identity rows and does not say so in JSON. */
        public boolean truncated() {
            return identityRows >= 10_000;
        }
    }

    private CrtShAnswer() {}

    /** Classifies by status and content type before any body is read. */
    public static Result classify(int status, String contentType) {
        if (status == 200
                && contentType != null
                && contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return null;
        }
        if (status == 200) {
            return new Result(Outcome.INPUT_ERROR, 0, 0, "crt.sh answered 200 with " + contentType + ", not JSON");
        }
        if (status >= 400 && status < 500 && status != 429 && status != 408) {
            return new Result(Outcome.REFUSED, 0, 0, "crt.sh answered HTTP " + status);
        }
        // 429, 5xx (502 and 503 under load) and anything odd: crt.sh may answer later
        return new Result(Outcome.UNAVAILABLE, 0, 0, "crt.sh answered HTTP " + status);
    }

    /** Streams the array's rows to {@code sink}; a truncated or non-array body is not a success. */
    public static Result read(InputStream body, Consumer<CrtShRow> sink) {
        long rows = 0;
        long identityRows = 0;
        try (JsonParser parser = EventJson.mapper().getFactory().createParser(body)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new Result(Outcome.UNAVAILABLE, 0, 0, "crt.sh sent an empty body");
            }
            if (first != JsonToken.START_ARRAY) {
                return new Result(Outcome.MALFORMED, 0, 0, "crt.sh sent JSON that is not an array");
            }
            while (parser.nextToken() == JsonToken.START_OBJECT) {
                CrtShRow row = parser.readValueAs(CrtShRow.class);
                rows++;
                identityRows += row.resultCount() == null ? 0 : row.resultCount();
                sink.accept(row);
            }
            if (parser.currentToken() != JsonToken.END_ARRAY) {
                return new Result(Outcome.MALFORMED, rows, identityRows, "crt.sh array holds a non-object element");
            }
            return new Result(Outcome.SUCCESS, rows, identityRows, null);
        } catch (IOException e) {
            // a cut connection or truncated JSON ends here, after the rows read so far were handed on
            return new Result(Outcome.UNAVAILABLE, rows, identityRows, "crt.sh body unreadable: " + e.getMessage());
        }
    }
}
