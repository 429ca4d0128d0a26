package dev.ctwatch.notifier.render;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.EventJson;
import dev.ctwatch.notifier.digest.Digest;
import java.io.UncheckedIOException;
import java.util.TreeSet;

/**
 * The generic webhook body: the audited event exactly as on the topic (the public contract), or
 * for a digest an envelope listing them. Receivers parse JSON, so nothing is escaped beyond JSON.
 */
public final class WebhookRenderer {

    public Outbound render(CertificateAudited audited) {
        return Outbound.json(null, write(audited));
    }

    public Outbound render(Digest digest) {
        ObjectNode body = EventJson.mapper().createObjectNode();
        body.put("type", "ctwatch.digest");
        body.put("route", digest.route());
        body.put("watchEntry", digest.watchEntry());
        new TreeSet<>(digest.reasons()).forEach(r -> body.withArray("reasons").add(r.name()));
        body.put("count", digest.size());
        body.set("certificates", EventJson.mapper().valueToTree(digest.certificates()));
        return Outbound.json(null, write(body));
    }

    public static String write(Object value) {
        try {
            return EventJson.mapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
