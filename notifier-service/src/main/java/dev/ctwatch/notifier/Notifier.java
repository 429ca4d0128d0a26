package dev.ctwatch.notifier;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.delivery.DeliveryLog;
import dev.ctwatch.notifier.delivery.Dispatcher;
import dev.ctwatch.notifier.delivery.Planner;
import dev.ctwatch.notifier.delivery.Planner.DigestItem;
import dev.ctwatch.notifier.delivery.Planner.Pending;
import dev.ctwatch.notifier.delivery.Planner.Plan;
import dev.ctwatch.notifier.digest.DigestLog;
import dev.ctwatch.notifier.routing.Routing;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.faulttolerance.api.ExponentialBackoff;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.MDC;

/**
 * Takes audited certificates in: plans each one (routes, channels, recipients, or a digest) and
 * stores the plan in one transaction. The record is acked once that commits; sending is the
 * {@link Dispatcher}'s job, so a channel that is down never holds up the consumer.
 */
@ApplicationScoped
public class Notifier {
    private final Planner planner;
    private final DeliveryLog deliveries;
    private final DigestLog digests;
    private final NotifyMetrics metrics;

    Notifier(Routing routing, DeliveryLog deliveries, DigestLog digests, NotifyMetrics metrics) {
        this.planner = routing.planner();
        this.deliveries = deliveries;
        this.digests = digests;
        this.metrics = metrics;
    }

    /** Retried for a database blip; an unreadable record goes straight to the dead-letter topic. */
    @Incoming("certificates-audited")
    @Blocking
    @Retry(maxRetries = 5, delay = 500, delayUnit = ChronoUnit.MILLIS, abortOn = InvalidRecordException.class)
    @ExponentialBackoff(maxDelay = 10, maxDelayUnit = ChronoUnit.SECONDS)
    public void notify(CertificateAudited audited) {
        if (audited == null
                || audited.certificate() == null
                || audited.certificate().key() == null) {
            // fail-on-deserialization-failure=false delivers unreadable records as null
            throw new InvalidRecordException("record carries no readable CertificateAudited with an issuance key");
        }
        // every log line about this certificate carries its issuance key (a JSON field in prod)
        MDC.put("issuanceKey", audited.certificate().key().toString());
        try {
            Plan plan = planner.plan(audited, Instant.now());
            Stored stored = QuarkusTransaction.requiringNew()
                    .call(() -> new Stored(digests.add(plan.digestItems()), deliveries.enqueue(plan.deliveries())));
            stored.duplicates().forEach(d -> metrics.delivery(d.channel(), "duplicate"));
            stored.digested().forEach(item -> metrics.digested(item.reason()));
        } finally {
            MDC.remove("issuanceKey");
        }
    }

    private record Stored(List<DigestItem> digested, List<Pending> duplicates) {}

    /** A record that no retry can fix: straight to the dead-letter topic. */
    public static class InvalidRecordException extends RuntimeException {
        public InvalidRecordException(String message) {
            super(message);
        }
    }
}
