package dev.ctwatch.notifier.channel;

import dev.ctwatch.notifier.NotifierConfig;
import dev.ctwatch.notifier.delivery.Backoff;
import dev.ctwatch.notifier.render.MailRenderer;
import dev.ctwatch.notifier.render.Outbound;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slack incoming webhooks and generic webhooks over the JDK HTTP client. URLs are secrets: no
 * result detail, log line or exception text built here contains one.
 *
 * <p>Per destination it keeps the earliest time of the next request: one interval after the last
 * Slack message (about one per second per webhook), or the end of a Retry-After. A short wait is
 * slept; a longer one postpones the delivery without counting an attempt.
 */
@ApplicationScoped
public class HttpChannels {
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final HttpClient client = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private final Map<URI, Instant> notBefore = new ConcurrentHashMap<>();
    private final NotifierConfig config;

    HttpChannels(NotifierConfig config) {
        this.config = config;
    }

    /** Slack answers 200 {@code ok}; 429 and 5xx are retried, other statuses rejected. */
    public SendResult slack(URI webhook, Outbound message) {
        Duration minInterval = config.slack().minInterval();
        SendResult wait = awaitSlot(webhook, minInterval);
        if (wait != null) {
            return wait;
        }
        notBefore.put(webhook, Instant.now().plus(minInterval));
        return post(webhook, HttpRequest.newBuilder(webhook), message.json());
    }

    /** POST of the event JSON, signed, with an idempotency key; 2xx is success. */
    public SendResult webhook(URI url, String secret, Outbound message, String idempotencyKey) {
        SendResult wait = awaitSlot(url, Duration.ZERO);
        if (wait != null) {
            return wait;
        }
        byte[] body = message.json().getBytes(StandardCharsets.UTF_8);
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .header(Signatures.HEADER, Signatures.sign(secret, body))
                .header(IDEMPOTENCY_KEY, idempotencyKey);
        return post(url, request, message.json());
    }

    private SendResult awaitSlot(URI destination, Duration sleepable) {
        Instant slot = notBefore.get(destination);
        Duration wait = slot == null ? Duration.ZERO : Duration.between(Instant.now(), slot);
        if (wait.isNegative() || wait.isZero()) {
            return null;
        }
        if (wait.compareTo(sleepable) > 0) {
            return SendResult.postponed(wait);
        }
        try {
            Thread.sleep(wait.toMillis());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SendResult.postponed(wait);
        }
    }

    private SendResult post(URI destination, HttpRequest.Builder request, String json) {
        HttpResponse<String> response;
        try {
            response = client.send(
                    request.timeout(config.delivery().httpTimeout())
                            .header("Content-Type", "application/json; charset=utf-8")
                            .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8))
                            .build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return SendResult.retry(e.getClass().getSimpleName() + " (no response)", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SendResult.retry("interrupted", null);
        }
        int status = response.statusCode();
        String detail = "HTTP " + status + " " + MailRenderer.cut(MailRenderer.oneLine(response.body()), 200);
        if (status / 100 == 2) {
            return SendResult.sent();
        }
        if (status == 429 || status == 408 || status / 100 == 5) {
            Duration retryAfter = Backoff.retryAfter(
                            response.headers().firstValue("Retry-After").orElse(null), Instant.now())
                    .orElse(null);
            if (retryAfter != null) {
                notBefore.put(destination, Instant.now().plus(retryAfter));
            }
            return SendResult.retry(detail, retryAfter);
        }
        return SendResult.rejected(detail);
    }
}
