package dev.ctwatch.notifier;

import dev.ctwatch.notifier.routing.Kind;
import dev.ctwatch.notifier.routing.Severity;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Configuration of the notifier, under {@code notifier.*}. Webhook URLs and secrets are
 * credentials: set them from the environment (a Kubernetes Secret), never in a committed file.
 */
@ConfigMapping(prefix = "notifier")
public interface NotifierConfig {

    /** The mail channel, and the recipients of the default route. */
    Mail mail();

    /** Slack incoming webhooks: the default route's webhook and limits that hold for every webhook. */
    Slack slack();

    /** The default route's generic webhook. */
    Webhook webhook();

    /**
     * Named routes ({@code notifier.routes.<name>.*}). Every route whose match holds gets the
     * notification; when none holds, the default route (the top-level mail, slack and webhook
     * settings) gets it.
     */
    Map<String, Route> routes();

    /** Sending, retrying and dead-lettering deliveries. */
    Delivery delivery();

    /** Digests of backfill (first poll of a new watch entry) and of floods. */
    Backfill backfill();

    /**
     * Most individual new-certificate messages per route and minute ({@code notifier.flood-limit});
     * beyond it, new certificates of that route go into a digest. Findings and anomalies are always
     * sent individually. Counted per replica.
     */
    @WithDefault("30")
    int floodLimit();

    interface Mail {
        /**
         * Recipients of the default route ({@code notifier.mail.to}, comma-separated). The default
         * route needs at least one of mail, Slack or webhook.
         */
        Optional<List<String>> to();

        /** Sender address ({@code notifier.mail.from}). */
        @WithDefault("ctwatch@localhost")
        String from();

        /** Put before every subject ({@code notifier.mail.subject-prefix}), so filters can match it. */
        @WithDefault("[ctwatch]")
        String subjectPrefix();

        /**
         * Longest wait for the SMTP server to accept one mail ({@code notifier.mail.send-timeout});
         * shorter than the dispatcher's transaction timeout, so a hung server fails the attempt only.
         */
        @WithDefault("PT30S")
        Duration sendTimeout();
    }

    interface Slack {
        /** Incoming-webhook URL of the default route ({@code notifier.slack.webhook-url}); a secret. */
        Optional<String> webhookUrl();

        /**
         * Least time between two messages to one webhook ({@code notifier.slack.min-interval}); Slack
         * allows about one message per second per webhook.
         */
        @WithDefault("PT1S")
        Duration minInterval();
    }

    interface Webhook {
        /** URL the default route POSTs the audited event to ({@code notifier.webhook.url}); a secret. */
        Optional<String> url();

        /** Shared HMAC-SHA256 secret for {@code X-Ctwatch-Signature} ({@code notifier.webhook.secret}). */
        Optional<String> secret();
    }

    /** One routing rule: what it matches and where it sends. */
    interface Route {
        /**
         * Watch-entry labels that must all be equal ({@code notifier.routes.<name>.labels.team=payments});
         * none: any watch entry.
         */
        Map<String, String> labels();

        /** Kinds this route takes (NEW_CERTIFICATE, CAA_FINDING, SERIAL_REUSE, ROW_MISMATCH); none: all. */
        Optional<List<Kind>> kinds();

        /** Least severity this route takes (INFO, LOW, MEDIUM, HIGH, CRITICAL). */
        @WithDefault("INFO")
        Severity minSeverity();

        /** Mail recipients of this route. */
        Optional<List<String>> mailTo();

        /** Slack incoming-webhook URL of this route; a secret. */
        Optional<String> slackWebhookUrl();

        /** Generic webhook URL of this route; a secret. */
        Optional<String> webhookUrl();

        /** HMAC secret of this route's generic webhook; required with {@code webhook-url}. */
        Optional<String> webhookSecret();

        /** This route's flood limit; default {@code notifier.flood-limit}. */
        Optional<Integer> floodLimit();
    }

    interface Delivery {
        /** How often the dispatcher looks for due deliveries and digests ({@code notifier.delivery.poll-interval}). */
        @WithDefault("PT1S")
        Duration pollInterval();

        /** Wait before the first retry of a failed delivery; doubled per attempt. */
        @WithDefault("PT30S")
        Duration initialBackoff();

        /** Longest wait between two attempts. */
        @WithDefault("PT1H")
        Duration maxBackoff();

        /** Attempts before a delivery is dead-lettered (about 14 h with the default backoff). */
        @WithDefault("20")
        int maxAttempts();

        /** Request timeout of one Slack or webhook POST. */
        @WithDefault("PT10S")
        Duration httpTimeout();

        /** Most deliveries one dispatcher run sends, so digests and shutdown are not held up. */
        @WithDefault("200")
        int batchSize();
    }

    interface Backfill {
        /**
         * Collect backfill certificates into one digest per route and watch entry
         * ({@code notifier.backfill.digest}); false: one message per certificate.
         */
        @WithDefault("true")
        boolean digest();

        /** How long a digest collects after its first certificate ({@code notifier.backfill.window}). */
        @WithDefault("PT2M")
        Duration window();
    }
}
