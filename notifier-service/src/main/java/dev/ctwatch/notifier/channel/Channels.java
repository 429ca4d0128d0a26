package dev.ctwatch.notifier.channel;

/** Channel names, as stored in the delivery log and used as the metric tag {@code channel}. */
public final class Channels {
    public static final String MAIL = "mail";
    public static final String SLACK = "slack";
    public static final String WEBHOOK = "webhook";

    /** Recipient of a Slack or generic webhook delivery: the route's one URL, which is a secret. */
    public static final String WEBHOOK_RECIPIENT = "url";

    private Channels() {}
}
