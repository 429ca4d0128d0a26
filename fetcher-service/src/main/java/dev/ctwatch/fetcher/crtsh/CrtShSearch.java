package dev.ctwatch.fetcher.crtsh;

import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.fetcher.FetcherConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * crt.sh's identity search over the JDK HTTP client, whose {@code ofInputStream()} hands the body
 * over as it arrives: the Quarkus REST client buffered a {@code Response} body whole until
 * quarkus#48807 (2025) and its InputStream path has known costs on large bodies (quarkus#48755).
 * Every request passes the service's one rate limiter and circuit breaker.
 */
@ApplicationScoped
public class CrtShSearch {
    private final URI base;
    private final FetcherConfig.CrtSh config;
    private final String userAgent;
    private final HttpClient http;
    private final RateLimiter limiter;
    private final CircuitBreaker breaker;
    private final Timer latency;
    private final Clock clock = Clock.systemUTC();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "crtsh-body-watchdog");
        t.setDaemon(true);
        return t;
    });

    CrtShSearch(
            @ConfigProperty(name = "quarkus.rest-client.crtsh.url", defaultValue = "https://crt.sh") String url,
            FetcherConfig config,
            MeterRegistry metrics) {
        this.base = URI.create(url.endsWith("/") ? url : url + "/");
        this.config = config.crtsh();
        this.userAgent = config.userAgent();
        this.http = HttpClient.newBuilder()
                .connectTimeout(this.config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        this.limiter = new RateLimiter(this.config.maxInFlight(), this.config.minSpacing());
        this.breaker =
                new CircuitBreaker(this.config.breakerFailureThreshold(), this.config.breakerOpenDuration(), clock);
        this.latency = Timer.builder("ctwatch.fetch.crtsh.latency")
                .description("Time until crt.sh's answer starts (status and headers)")
                .publishPercentileHistogram()
                .register(metrics);
        Gauge.builder(
                        "ctwatch.fetch.crtsh.breaker.state",
                        breaker,
                        b -> b.state().ordinal())
                .description("crt.sh circuit breaker: 0 closed, 1 half-open, 2 open")
                .register(metrics);
    }

    public CircuitBreaker.State breakerState() {
        return breaker.state();
    }

    /** The request URI for a domain: Identity, exclude=expired, output=json, match=ILIKE when hyphenated. */
    public URI uri(String domain) {
        String query = "?Identity=" + URLEncoder.encode(domain, StandardCharsets.UTF_8) + "&exclude=expired&output=json"
                + (domain.contains("-") ? "&match=ILIKE" : "");
        return base.resolve(query);
    }

    /**
     * Asks crt.sh for one domain and streams the rows of a successful answer to {@code sink}. A
     * {@code RuntimeException} from the sink (the broker) propagates and says nothing about crt.sh.
     */
    public CrtShAnswer.Result search(String domain, Consumer<CrtShRow> sink) throws InterruptedException {
        if (!breaker.allowRequest()) {
            return new CrtShAnswer.Result(
                            CrtShAnswer.Outcome.CIRCUIT_OPEN,
                            0,
                            0,
                            "crt.sh failed repeatedly; circuit breaker open until " + breaker.openUntil())
                    .withRetryAfter(Duration.between(clock.instant(), breaker.openUntil()));
        }
        HttpRequest request = HttpRequest.newBuilder(uri(domain))
                .timeout(config.responseTimeout())
                // no Accept: application/json, crt.sh would turn it into a second output=json
                .header("User-Agent", userAgent)
                .GET()
                .build();
        CrtShAnswer.Result result;
        try (RateLimiter.Permit permit = limiter.acquire()) {
            result = exchange(request, sink);
        }
        if (result.outcome() == CrtShAnswer.Outcome.UNAVAILABLE) {
            breaker.onFailure();
        } else {
            breaker.onSuccess();
        }
        return result;
    }

    private CrtShAnswer.Result exchange(HttpRequest request, Consumer<CrtShRow> sink) throws InterruptedException {
        Timer.Sample sample = Timer.start();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            return unavailable("crt.sh did not answer within " + config.responseTimeout());
        } catch (IOException e) {
            return unavailable("crt.sh connection failed: " + e);
        } finally {
            sample.stop(latency);
        }
        try (InputStream body = response.body()) {
            CrtShAnswer.Result verdict = CrtShAnswer.classify(
                    response.statusCode(),
                    response.headers().firstValue("Content-Type").orElse(null));
            if (verdict != null) {
                return verdict.withRetryAfter(Backoff.parseRetryAfter(
                                response.headers().firstValue("Retry-After").orElse(null), clock.instant())
                        .orElse(null));
            }
            // a stalled body would block the read forever; closing the stream ends it with an IOException
            AtomicBoolean expired = new AtomicBoolean();
            ScheduledFuture<?> deadline = watchdog.schedule(
                    () -> {
                        expired.set(true);
                        closeQuietly(body);
                    },
                    config.bodyTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
            try {
                CrtShAnswer.Result read = CrtShAnswer.read(body, sink);
                return expired.get() ? read.withDetail("crt.sh answer took longer than " + config.bodyTimeout()) : read;
            } finally {
                deadline.cancel(false);
            }
        } catch (IOException e) {
            return unavailable("crt.sh body unreadable: " + e);
        }
    }

    private static CrtShAnswer.Result unavailable(String detail) {
        return new CrtShAnswer.Result(CrtShAnswer.Outcome.UNAVAILABLE, 0, 0, detail);
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the reader sees the closed stream either way
        }
    }

    @PreDestroy
    void stop() {
        watchdog.shutdownNow();
    }
}
