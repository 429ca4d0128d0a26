package dev.ctwatch.notifier.render;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.digest.Digest;
import dev.ctwatch.notifier.render.MailRenderer.Row;
import dev.ctwatch.notifier.render.MailRenderer.Section;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a notification as a Slack incoming-webhook payload: Block Kit blocks plus the {@code text}
 * fallback (what notifications and old clients show), within Block Kit's limits.
 *
 * <p>The content is {@link MailRenderer}'s: every untrusted value is already one line and cut; here
 * it is also escaped for mrkdwn ({@code &}, {@code <}, {@code >}), so a certificate cannot add a
 * link or a mention ({@code <!channel>}). Escaping happens before cutting, and a cut never splits an
 * entity.
 */
public final class SlackRenderer {
    static final int MAX_BLOCKS = 50;
    static final int MAX_HEADER = 150;
    static final int MAX_SECTION_TEXT = 3000;
    static final int MAX_FIELDS = 10;
    static final int MAX_FIELD = 2000;
    static final int MAX_FALLBACK = 3000;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The Block Kit payload of one audited certificate. */
    public Outbound render(CertificateAudited audited) {
        String headline = MailRenderer.oneLine(MailRenderer.headline(audited));
        List<Section> sections = MailRenderer.sections(audited);
        ObjectNode payload = JSON.createObjectNode();
        String fallback = fit(escape(headline) + crtShLink(audited), MAX_FALLBACK);
        payload.put("text", fallback);
        ArrayNode blocks = payload.putArray("blocks");
        blocks.add(header(headline));
        for (Section section : sections) {
            if (section.title().equals("Certificate")) {
                fieldsSection(blocks, section);
            } else {
                blocks.add(textSection("*" + escape(section.title()) + "*\n" + lines(section.rows())));
            }
        }
        return Outbound.json(fallback, write(payload));
    }

    /** One message listing a digest's certificates, one section each, at most {@link #MAX_BLOCKS} blocks. */
    public Outbound render(Digest digest) {
        String headline = MailRenderer.oneLine(digest.headline());
        ObjectNode payload = JSON.createObjectNode();
        String fallback = fit(escape(headline), MAX_FALLBACK);
        payload.put("text", fallback);
        ArrayNode blocks = payload.putArray("blocks");
        blocks.add(header(headline));
        blocks.add(context(escape(digest.explanation())));
        // header + context + sections + one closing context for what did not fit
        int room = MAX_BLOCKS - 3;
        List<CertificateAudited> certificates = digest.certificates();
        for (int i = 0; i < Math.min(room, certificates.size()); i++) {
            CertificateAudited audited = certificates.get(i);
            String title = MailRenderer.firstAndMore(MailRenderer.names(audited.certificate()));
            blocks.add(textSection(
                    "*" + (i + 1) + ". " + escape(title) + "*\n" + lines(MailRenderer.digestRows(audited))));
        }
        if (certificates.size() > room) {
            blocks.add(context("and " + (certificates.size() - room) + " more certificates " + MailRenderer.CUT
                    + ": see the mail or the webhook"));
        }
        return Outbound.json(fallback, write(payload));
    }

    /** A plain message (the test notification). */
    public Outbound plain(String headline, String body) {
        ObjectNode payload = JSON.createObjectNode();
        String fallback = fit(escape(MailRenderer.oneLine(headline)), MAX_FALLBACK);
        payload.put("text", fallback);
        ArrayNode blocks = payload.putArray("blocks");
        blocks.add(header(MailRenderer.oneLine(headline)));
        blocks.add(textSection(escape(body)));
        return Outbound.json(fallback, write(payload));
    }

    private static ObjectNode header(String headline) {
        ObjectNode block = JSON.createObjectNode().put("type", "header");
        block.putObject("text")
                .put("type", "plain_text")
                .put("text", fit(escape(headline), MAX_HEADER))
                .put("emoji", false);
        return block;
    }

    private static ObjectNode textSection(String mrkdwn) {
        ObjectNode block = JSON.createObjectNode().put("type", "section");
        block.putObject("text").put("type", "mrkdwn").put("text", fit(mrkdwn, MAX_SECTION_TEXT));
        return block;
    }

    private static ObjectNode context(String mrkdwn) {
        ObjectNode block = JSON.createObjectNode().put("type", "context");
        block.putArray("elements").addObject().put("type", "mrkdwn").put("text", fit(mrkdwn, MAX_SECTION_TEXT));
        return block;
    }

    /** Up to ten rows as fields; the rest as the section's text. */
    private static void fieldsSection(ArrayNode blocks, Section section) {
        ObjectNode block = JSON.createObjectNode().put("type", "section");
        List<Row> rows = section.rows();
        List<Row> rest = new ArrayList<>();
        ArrayNode fields = JSON.createArrayNode();
        for (Row row : rows) {
            if (fields.size() < MAX_FIELDS) {
                fields.addObject()
                        .put("type", "mrkdwn")
                        .put("text", fit("*" + escape(row.label()) + "*\n" + values(row, "\n"), MAX_FIELD));
            } else {
                rest.add(row);
            }
        }
        block.putObject("text")
                .put("type", "mrkdwn")
                .put(
                        "text",
                        fit(
                                "*" + escape(section.title()) + "*" + (rest.isEmpty() ? "" : "\n" + lines(rest)),
                                MAX_SECTION_TEXT));
        block.set("fields", fields);
        blocks.add(block);
    }

    private static String lines(List<Row> rows) {
        StringBuilder out = new StringBuilder();
        for (Row row : rows) {
            if (out.length() > 0) {
                out.append('\n');
            }
            out.append('*').append(escape(row.label())).append(":* ").append(values(row, ", "));
        }
        return out.toString();
    }

    private static String values(Row row, String separator) {
        if (row.values().isEmpty()) {
            return "-";
        }
        List<String> out = new ArrayList<>();
        for (String value : row.values()) {
            // links are URLs we built from numeric crt.sh ids
            out.add(row.links() ? "<" + value + "|" + value.substring(value.indexOf("id=") + 3) + ">" : escape(value));
        }
        return String.join(separator, out);
    }

    private static String crtShLink(CertificateAudited audited) {
        List<Long> ids = audited.certificate().crtShIds();
        return ids.isEmpty() ? "" : " <https://crt.sh/?id=" + ids.get(0) + ">";
    }

    /** Slack's escaping for mrkdwn and plain text from untrusted sources: exactly these three. */
    static String escape(String value) {
        StringBuilder out = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** Cuts escaped text to {@code max} characters, visibly, never inside an entity or surrogate pair. */
    static String fit(String escaped, int max) {
        if (escaped.length() <= max) {
            return escaped;
        }
        int end = max - MailRenderer.CUT.length();
        int amp = escaped.lastIndexOf('&', end - 1);
        if (amp >= 0 && escaped.indexOf(';', amp) >= end) {
            end = amp; // "&am|p;" would show as garbage
        }
        if (end > 0 && Character.isHighSurrogate(escaped.charAt(end - 1))) {
            end--;
        }
        return escaped.substring(0, end) + MailRenderer.CUT;
    }

    private static String write(ObjectNode payload) {
        try {
            return JSON.writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
