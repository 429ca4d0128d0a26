package dev.ctwatch.notifier.delivery;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.notifier.channel.Channels;
import dev.ctwatch.notifier.digest.Digest;
import dev.ctwatch.notifier.digest.FloodGuard;
import dev.ctwatch.notifier.render.MailRenderer;
import dev.ctwatch.notifier.render.Outbound;
import dev.ctwatch.notifier.render.SlackRenderer;
import dev.ctwatch.notifier.render.WebhookRenderer;
import dev.ctwatch.notifier.routing.Classification;
import dev.ctwatch.notifier.routing.Route;
import dev.ctwatch.notifier.routing.Router;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Decides what an audited certificate becomes: a delivery per route, channel and recipient, or an
 * item of a digest (backfill, flood). Plain Java: the messaging bean only stores the plan.
 */
public final class Planner {
    private final Router router;
    private final MailRenderer mail;
    private final SlackRenderer slack = new SlackRenderer();
    private final WebhookRenderer webhook = new WebhookRenderer();
    private final boolean backfillDigest;
    private final FloodGuard flood;

    public Planner(Router router, MailRenderer mail, boolean backfillDigest, FloodGuard flood) {
        this.router = router;
        this.mail = mail;
        this.backfillDigest = backfillDigest;
        this.flood = flood;
    }

    /** One row of the delivery log to write; {@code event} is the audited JSON for the dead-letter topic. */
    public record Pending(String key, String route, String channel, String recipient, Outbound message, String event) {}

    /** A new certificate held back for the digest of its route and watch entry. */
    public record DigestItem(String route, String watchEntry, String issuanceKey, Digest.Reason reason, String event) {}

    public record Plan(List<Pending> deliveries, List<DigestItem> digestItems) {}

    /**
     * What the delivery log sends once: the issuance, and for a serial reuse the reusing
     * certificate as well. A reuse carries the issuance key of a certificate already notified, and
     * it must never be swallowed as that one's redelivery.
     */
    public static String deliveryKey(CertificateAudited audited) {
        CertificateDiscovered certificate = audited.certificate();
        String key = certificate.key().toString();
        if (certificate.anomaly() != null
                && certificate.anomaly().kind() == Anomaly.Kind.SERIAL_REUSE
                && certificate.identity() != null
                && certificate.identity().tbsSha256() != null) {
            return key + "#reuse:" + certificate.identity().tbsSha256();
        }
        return key;
    }

    public Plan plan(CertificateAudited audited, Instant now) {
        String key = deliveryKey(audited);
        boolean individual = Classification.of(audited).individual();
        String event = WebhookRenderer.write(audited);
        List<Pending> deliveries = new ArrayList<>();
        List<DigestItem> digest = new ArrayList<>();
        Rendered rendered = new Rendered(audited);
        for (Router.Routed routed : router.route(audited)) {
            Route route = routed.route();
            if (!individual && backfillDigest && audited.certificate().backfill()) {
                digest.add(new DigestItem(route.name(), routed.watchEntry(), key, Digest.Reason.BACKFILL, event));
            } else if (!individual && !flood.allow(route.name(), route.floodLimit(), now)) {
                digest.add(new DigestItem(route.name(), routed.watchEntry(), key, Digest.Reason.FLOOD, event));
            } else {
                deliveries.addAll(deliveries(route, key, event, rendered::mail, rendered::slack, rendered::webhook));
            }
        }
        return new Plan(deliveries, digest);
    }

    /** The deliveries of one certificate on one route (also a digest of one). */
    public List<Pending> single(Route route, CertificateAudited audited) {
        Rendered rendered = new Rendered(audited);
        return deliveries(
                route,
                deliveryKey(audited),
                WebhookRenderer.write(audited),
                rendered::mail,
                rendered::slack,
                rendered::webhook);
    }

    /** The deliveries of a digest; its items hold the events, so the rows carry none. */
    public List<Pending> digest(Route route, Digest digest) {
        return deliveries(
                route,
                digest.key(),
                null,
                () -> Outbound.mail(mail.render(digest)),
                () -> slack.render(digest),
                () -> webhook.render(digest));
    }

    private static List<Pending> deliveries(
            Route route,
            String key,
            String event,
            Supplier<Outbound> mail,
            Supplier<Outbound> slack,
            Supplier<Outbound> webhook) {
        List<Pending> out = new ArrayList<>();
        for (Route.Destination destination : route.destinations()) {
            Outbound message = switch (destination.channel()) {
                case Channels.MAIL -> mail.get();
                case Channels.SLACK -> slack.get();
                default -> webhook.get();
            };
            out.add(new Pending(key, route.name(), destination.channel(), destination.recipient(), message, event));
        }
        return out;
    }

    /** Renders each channel's form once, on first use. */
    private final class Rendered {
        private final CertificateAudited audited;
        private Outbound mailForm;
        private Outbound slackForm;
        private Outbound webhookForm;

        Rendered(CertificateAudited audited) {
            this.audited = audited;
        }

        Outbound mail() {
            return mailForm != null ? mailForm : (mailForm = Outbound.mail(mail.render(audited)));
        }

        Outbound slack() {
            return slackForm != null ? slackForm : (slackForm = slack.render(audited));
        }

        Outbound webhook() {
            return webhookForm != null ? webhookForm : (webhookForm = webhook.render(audited));
        }
    }
}
