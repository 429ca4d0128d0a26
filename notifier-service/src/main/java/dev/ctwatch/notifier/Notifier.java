package dev.ctwatch.notifier;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.MailRenderer.RenderedMail;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.faulttolerance.api.ExponentialBackoff;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.temporal.ChronoUnit;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Consumes audited certificates and mails every configured recipient once per issuance.
 *
 * <p>Each recipient has its own transaction (claim + send), so a recipient already served is never
 * rolled back by a failure of another one. A failed send is retried with backoff (the SMTP relay
 * may be down); when the retries are used up the record is nacked and goes to the dead-letter topic.
 */
@ApplicationScoped
public class Notifier {
    private static final Logger LOG = Logger.getLogger(Notifier.class);

    private final MailChannel mail;
    private final DeliveryLog log;
    private final NotifierConfig config;
    private final MailRenderer renderer;
    private final Counter sent;
    private final Counter duplicate;
    private final Counter failed;

    Notifier(MailChannel mail, DeliveryLog log, NotifierConfig config, MeterRegistry registry) {
        this.mail = mail;
        this.log = log;
        this.config = config;
        this.renderer = new MailRenderer(config.mail().subjectPrefix());
        this.sent = deliveries(registry, "sent");
        this.duplicate = deliveries(registry, "duplicate");
        this.failed = deliveries(registry, "failed");
    }

    private static Counter deliveries(MeterRegistry registry, String outcome) {
        return Counter.builder("ctwatch.notify.deliveries")
                .description("Notifications per outcome: sent now, already delivered (skipped), failed attempt")
                .tag("channel", MailChannel.CHANNEL)
                .tag("outcome", outcome)
                .register(registry);
    }

    @Incoming("certificates-audited")
    @Blocking
    @Retry(maxRetries = 8, delay = 1, delayUnit = ChronoUnit.SECONDS, abortOn = InvalidRecordException.class)
    @ExponentialBackoff(maxDelay = 30, maxDelayUnit = ChronoUnit.SECONDS)
    public void notify(CertificateAudited audited) {
        if (audited == null
                || audited.certificate() == null
                || audited.certificate().key() == null) {
            // fail-on-deserialization-failure=false delivers unreadable records as null
            throw new InvalidRecordException("record carries no readable CertificateAudited with an issuance key");
        }
        String key = audited.certificate().key().toString();
        RenderedMail rendered = renderer.render(audited);
        RuntimeException failure = null;
        for (String recipient : config.mail().to()) {
            try {
                if (mail.deliver(key, recipient, rendered)) {
                    sent.increment();
                } else {
                    duplicate.increment();
                }
            } catch (RuntimeException e) {
                failed.increment();
                LOG.warnf("mail for %s to %s failed: %s", key, recipient, e.toString());
                recordFailure(key, recipient, e);
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure; // retried; recipients served already are skipped by their claim
        }
    }

    private void recordFailure(String key, String recipient, RuntimeException e) {
        try {
            log.recordFailure(key, MailChannel.CHANNEL, recipient, e.toString());
        } catch (RuntimeException logFailure) {
            LOG.warnf("could not record the failed delivery of %s to %s: %s", key, recipient, logFailure.toString());
        }
    }

    /** A record that no retry can fix: straight to the dead-letter topic. */
    public static class InvalidRecordException extends RuntimeException {
        public InvalidRecordException(String message) {
            super(message);
        }
    }
}
