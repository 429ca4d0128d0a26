package dev.ctwatch.notifier.render;

/**
 * A rendered message as stored in the delivery log and handed to a channel: mail uses subject,
 * text and html; Slack text (the fallback) and json (the Block Kit payload); webhooks json.
 */
public record Outbound(String subject, String text, String html, String json) {

    public static Outbound mail(MailRenderer.RenderedMail mail) {
        return new Outbound(mail.subject(), mail.text(), mail.html(), null);
    }

    public static Outbound json(String text, String json) {
        return new Outbound(null, text, null, json);
    }
}
