package dev.ctwatch.notifier.routing;

import dev.ctwatch.events.WatchMatch;
import dev.ctwatch.notifier.channel.Channels;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A validated routing rule: which notifications it takes and where it sends them. URLs and the
 * webhook secret are credentials: {@link #toString()} leaves them out.
 *
 * @param labels watch-entry labels that must all be equal; empty: any entry (or none)
 * @param kinds kinds taken; empty: all
 */
public record Route(
        String name,
        Map<String, String> labels,
        Set<Kind> kinds,
        Severity minSeverity,
        List<String> mailTo,
        Optional<URI> slackWebhook,
        Optional<URI> webhook,
        Optional<String> webhookSecret,
        int floodLimit) {

    public static final String DEFAULT = "default";

    /** Where a route sends: channel plus recipient (mail address, or the channel's one webhook). */
    public record Destination(String channel, String recipient) {}

    public boolean isDefault() {
        return DEFAULT.equals(name);
    }

    /** Kind and severity both taken. */
    public boolean takes(Classification classification) {
        return (kinds.isEmpty() || kinds.contains(classification.kind()))
                && classification.severity().compareTo(minSeverity) >= 0;
    }

    /** The entry carries every label of this route (always true for a route without labels). */
    public boolean selects(WatchMatch entry) {
        return labels.entrySet().stream()
                .allMatch(l -> l.getValue().equals(entry.labels().get(l.getKey())));
    }

    public List<Destination> destinations() {
        List<Destination> out = new ArrayList<>();
        mailTo.forEach(to -> out.add(new Destination(Channels.MAIL, to)));
        slackWebhook.ifPresent(url -> out.add(new Destination(Channels.SLACK, Channels.WEBHOOK_RECIPIENT)));
        webhook.ifPresent(url -> out.add(new Destination(Channels.WEBHOOK, Channels.WEBHOOK_RECIPIENT)));
        return out;
    }

    @Override
    public String toString() {
        return "Route[" + name + ", labels=" + labels + ", kinds=" + kinds + ", minSeverity=" + minSeverity
                + ", destinations=" + destinations() + "]";
    }
}
