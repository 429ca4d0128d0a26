package dev.ctwatch.notifier.delivery;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.EventJson;
import dev.ctwatch.notifier.NotifierConfig;
import dev.ctwatch.notifier.NotifyMetrics;
import dev.ctwatch.notifier.channel.Channels;
import dev.ctwatch.notifier.channel.HttpChannels;
import dev.ctwatch.notifier.channel.MailChannel;
import dev.ctwatch.notifier.channel.SendResult;
import dev.ctwatch.notifier.delivery.DeliveryLog.Due;
import dev.ctwatch.notifier.digest.Digest;
import dev.ctwatch.notifier.digest.DigestLog;
import dev.ctwatch.notifier.digest.DigestLog.Group;
import dev.ctwatch.notifier.digest.DigestLog.Item;
import dev.ctwatch.notifier.render.Outbound;
import dev.ctwatch.notifier.routing.Route;
import dev.ctwatch.notifier.routing.Router;
import dev.ctwatch.notifier.routing.Routing;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Sends due deliveries and closes due digests, every {@code notifier.delivery.poll-interval}. One
 * transaction per delivery: lock the row, send, write the outcome. A failed attempt is rescheduled
 * with exponential backoff (or the receiver's Retry-After); after {@code max-attempts}, or at once
 * for a rejection (4xx), the delivery is dead-lettered.
 */
@ApplicationScoped
public class Dispatcher {
    private static final Logger LOG = Logger.getLogger(Dispatcher.class);
    /** Longer than the mail send timeout and the HTTP timeout plus a rate-limit wait. */
    private static final int TX_TIMEOUT_SECONDS = 120;

    private final DeliveryLog deliveries;
    private final DigestLog digests;
    private final Router router;
    private final Planner planner;
    private final MailChannel mail;
    private final HttpChannels http;
    private final DeadLetters deadLetters;
    private final NotifyMetrics metrics;
    private final NotifierConfig config;
    private final Backoff backoff;
    private volatile boolean stopping;

    Dispatcher(
            DeliveryLog deliveries,
            DigestLog digests,
            Routing routing,
            MailChannel mail,
            HttpChannels http,
            DeadLetters deadLetters,
            NotifyMetrics metrics,
            NotifierConfig config) {
        this.deliveries = deliveries;
        this.digests = digests;
        this.router = routing.router();
        this.planner = routing.planner();
        this.mail = mail;
        this.http = http;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
        this.config = config;
        this.backoff = new Backoff(
                config.delivery().initialBackoff(), config.delivery().maxBackoff());
    }

    @Scheduled(
            identity = "notifier-dispatcher",
            every = "${notifier.delivery.poll-interval:PT1S}",
            delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void run() {
        if (stopping) {
            return;
        }
        try {
            closeDueDigests();
        } catch (RuntimeException e) {
            LOG.warnf("closing digests failed, next run retries: %s", e.toString());
        }
        try {
            for (int i = 0; i < config.delivery().batchSize() && !stopping; i++) {
                if (!QuarkusTransaction.requiringNew()
                        .timeout(TX_TIMEOUT_SECONDS)
                        .call(this::deliverOne)) {
                    break;
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf("dispatching failed, next run retries: %s", e.toString());
        }
    }

    /** No new run once shutdown began: the datasource is closing; due rows wait for the next start. */
    void onStop(@Observes ShutdownEvent event) {
        stopping = true;
    }

    /** Sends the most overdue delivery, if any; false when none is due. */
    boolean deliverOne() {
        Due due = deliveries.claimNext().orElse(null);
        if (due == null) {
            return false;
        }
        // the delivery's key: an issuance key, or a digest's key; a field of every line about it
        MDC.put("issuanceKey", due.key());
        try {
            return deliver(due);
        } finally {
            MDC.remove("issuanceKey");
        }
    }

    private boolean deliver(Due due) {
        Route route = router.find(due.route()).orElse(null);
        if (route == null) {
            giveUp(due, "route '" + due.route() + "' is no longer configured");
            return true;
        }
        if (due.attempts() > 0) {
            metrics.retry(due.channel());
        }
        Outbound message = read(due.payload(), Outbound.class);
        SendResult result = metrics.sendTimer(due.channel()).record(() -> send(route, due, message));
        switch (result.outcome()) {
            case SENT -> {
                deliveries.markSent(due);
                metrics.delivery(due.channel(), "sent");
            }
            case POSTPONED -> deliveries.postpone(due, result.retryAfter());
            case REJECTED -> {
                metrics.delivery(due.channel(), "rejected");
                LOG.warnf("%s of %s on route %s rejected: %s", due.channel(), due.key(), due.route(), result.detail());
                giveUp(due, "rejected: " + result.detail());
            }
            case RETRY -> {
                metrics.delivery(due.channel(), "failed");
                int failures = due.attempts() + 1;
                if (failures >= config.delivery().maxAttempts()) {
                    giveUp(due, "gave up after " + failures + " attempts: " + result.detail());
                } else {
                    Duration delay = backoff.after(failures, result.retryAfter());
                    LOG.warnf(
                            "%s of %s on route %s failed (attempt %d), retry in %s: %s",
                            due.channel(), due.key(), due.route(), failures, delay, result.detail());
                    deliveries.markFailed(due, result.detail(), delay);
                }
            }
        }
        return true;
    }

    private SendResult send(Route route, Due due, Outbound message) {
        return switch (due.channel()) {
            case Channels.MAIL -> mail.send(due.recipient(), message);
            case Channels.SLACK ->
                route.slackWebhook()
                        .map(url -> http.slack(url, message))
                        .orElse(SendResult.rejected("route has no Slack webhook any more"));
            case Channels.WEBHOOK ->
                route.webhook()
                        .map(url -> http.webhook(
                                url, route.webhookSecret().orElseThrow(), message, due.key() + "/" + due.route()))
                        .orElse(SendResult.rejected("route has no webhook any more"));
            default -> SendResult.rejected("unknown channel " + due.channel());
        };
    }

    /** Dead-letters the delivery's events (a digest's: each of its certificates), then marks it dead. */
    private void giveUp(Due due, String reason) {
        List<Item> events = due.event() != null
                ? List.of(new Item(due.key(), null, due.event()))
                : digests.events(due.route(), due.key());
        try {
            for (Item event : events) {
                deadLetters.send(
                        event.issuanceKey(), event.event(), due.route(), due.channel(), due.attempts() + 1, reason);
            }
        } catch (RuntimeException e) {
            // the broker is away: keep the row (FAILED) and try the dead-letter topic again later
            Duration delay = backoff.after(due.attempts() + 1, null);
            LOG.warnf(
                    "dead-letter topic unavailable for %s on route %s, again in %s: %s",
                    due.key(), due.route(), delay, e);
            deliveries.markFailed(due, reason + "; dead-letter topic unavailable: " + e, delay);
            return;
        }
        deliveries.markDead(due, reason);
        metrics.delivery(due.channel(), "dead");
        metrics.deadLetter(due.channel());
        LOG.errorf("%s of %s on route %s dead-lettered: %s", due.channel(), due.key(), due.route(), reason);
    }

    void closeDueDigests() {
        for (Group group : digests.due(config.backfill().window())) {
            QuarkusTransaction.requiringNew().run(() -> close(group));
        }
    }

    /** One transaction: the digest's deliveries are written and its items marked, or neither. */
    private void close(Group group) {
        List<Item> items = digests.take(group);
        if (items.isEmpty()) {
            return; // another replica took them
        }
        // a route removed from the configuration since: its digest goes to the default route
        Route route = router.find(group.route()).orElseGet(router::fallback);
        List<CertificateAudited> certificates = new ArrayList<>();
        Set<Digest.Reason> reasons = EnumSet.noneOf(Digest.Reason.class);
        for (Item item : items) {
            certificates.add(read(item.event(), CertificateAudited.class));
            reasons.add(item.reason());
        }
        List<String> keys = items.stream().map(Item::issuanceKey).toList();
        String digestKey;
        if (items.size() == 1) {
            // a digest of one is the ordinary message, under the issuance's own key
            deliveries.enqueue(planner.single(route, certificates.get(0)));
            digestKey = keys.get(0);
        } else {
            Digest digest = new Digest(
                    Digest.key(group.watchEntry(), keys.get(0)),
                    route.name(),
                    group.watchEntry(),
                    certificates,
                    reasons);
            deliveries.enqueue(planner.digest(route, digest));
            digestKey = digest.key();
        }
        digests.assign(group, keys, digestKey);
        metrics.digestSize(items.size());
        LOG.infof("digest of %d certificates for %s on route %s", items.size(), group.watchEntry(), route.name());
    }

    private static <T> T read(String json, Class<T> type) {
        try {
            return EventJson.mapper().readValue(json, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
