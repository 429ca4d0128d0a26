package dev.ctwatch.notifier;

import dev.ctwatch.notifier.channel.Channels;
import dev.ctwatch.notifier.digest.Digest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** The {@code ctwatch_notify_*} metrics; the README lists them. */
@ApplicationScoped
public class NotifyMetrics {
    private final MeterRegistry registry;

    NotifyMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (String channel : List.of(Channels.MAIL, Channels.SLACK, Channels.WEBHOOK)) {
            for (String outcome : List.of("sent", "duplicate", "failed", "rejected", "dead")) {
                delivery(channel, outcome, 0);
            }
            retry(channel, 0);
            deadLetter(channel, 0);
        }
    }

    /**
     * One delivery (route, channel, recipient) per outcome: sent, duplicate (a redelivered record,
     * nothing written), failed (attempt failed, will retry), rejected (a 4xx, not retried), dead
     * (dead-lettered).
     */
    public void delivery(String channel, String outcome) {
        delivery(channel, outcome, 1);
    }

    private void delivery(String channel, String outcome, int n) {
        Counter.builder("ctwatch.notify.deliveries")
                .description("Deliveries per channel and outcome")
                .tag("channel", channel)
                .tag("outcome", outcome)
                .register(registry)
                .increment(n);
    }

    /** An attempt after a failed one. */
    public void retry(String channel) {
        retry(channel, 1);
    }

    private void retry(String channel, int n) {
        Counter.builder("ctwatch.notify.retries")
                .description("Attempts after a failed attempt")
                .tag("channel", channel)
                .register(registry)
                .increment(n);
    }

    /** A delivery given up and written to the dead-letter topic. */
    public void deadLetter(String channel) {
        deadLetter(channel, 1);
    }

    private void deadLetter(String channel, int n) {
        Counter.builder("ctwatch.notify.dead.letters")
                .description("Deliveries given up and written to the dead-letter topic")
                .tag("channel", channel)
                .register(registry)
                .increment(n);
    }

    /** Certificates collected into a digest, by reason (backfill, flood). */
    public void digested(Digest.Reason reason) {
        Counter.builder("ctwatch.notify.digested")
                .description("Certificates held back for a digest")
                .tag("reason", reason.name().toLowerCase())
                .register(registry)
                .increment();
    }

    /** Certificates in one sent digest. */
    public void digestSize(int size) {
        DistributionSummary.builder("ctwatch.notify.digest.size")
                .description("Certificates per digest")
                .register(registry)
                .record(size);
    }

    public Timer sendTimer(String channel) {
        return Timer.builder("ctwatch.notify.send")
                .description("Time of one send attempt")
                .tag("channel", channel)
                .register(registry);
    }
}
