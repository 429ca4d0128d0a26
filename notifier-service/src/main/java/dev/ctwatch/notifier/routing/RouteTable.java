package dev.ctwatch.notifier.routing;

import dev.ctwatch.notifier.NotifierConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Builds the {@link Router} from configuration, checking every route; all problems in one message. */
public final class RouteTable {
    private RouteTable() {}

    /** Thrown at start-up with one line per problem; never contains a URL or secret. */
    public static class InvalidRoutesException extends IllegalStateException {
        public InvalidRoutesException(List<String> problems) {
            super("invalid notifier routing configuration:\n  - " + String.join("\n  - ", problems));
        }
    }

    public static Router from(NotifierConfig config) {
        List<String> problems = new ArrayList<>();
        List<Route> routes = new ArrayList<>();
        // sorted, so rule order (and the test endpoint's answer) does not depend on hash order
        for (Map.Entry<String, NotifierConfig.Route> e : new TreeMap<>(config.routes()).entrySet()) {
            String name = e.getKey();
            NotifierConfig.Route r = e.getValue();
            String prefix = "notifier.routes." + name + ".";
            if (Route.DEFAULT.equals(name)) {
                problems.add("route name 'default' is reserved: the default route is set by notifier.mail.to,"
                        + " notifier.slack.webhook-url and notifier.webhook.url");
                continue;
            }
            routes.add(route(
                    name,
                    prefix,
                    r.labels(),
                    r.kinds().map(EnumSet::copyOf).orElse(EnumSet.noneOf(Kind.class)),
                    r.minSeverity(),
                    r.mailTo().orElse(List.of()),
                    r.slackWebhookUrl(),
                    r.webhookUrl(),
                    r.webhookSecret(),
                    r.floodLimit().orElse(config.floodLimit()),
                    problems));
        }
        Route fallback = route(
                Route.DEFAULT,
                "notifier.",
                Map.of(),
                EnumSet.noneOf(Kind.class),
                Severity.INFO,
                config.mail().to().orElse(List.of()),
                config.slack().webhookUrl(),
                config.webhook().url(),
                config.webhook().secret(),
                config.floodLimit(),
                problems);
        if (!problems.isEmpty()) {
            throw new InvalidRoutesException(problems);
        }
        return new Router(routes, fallback);
    }

    private static Route route(
            String name,
            String prefix,
            Map<String, String> labels,
            EnumSet<Kind> kinds,
            Severity minSeverity,
            List<String> mailTo,
            Optional<String> slack,
            Optional<String> webhook,
            Optional<String> secret,
            int floodLimit,
            List<String> problems) {
        boolean isDefault = Route.DEFAULT.equals(name);
        String mailKey = isDefault ? "notifier.mail.to" : prefix + "mail-to";
        String slackKey = isDefault ? "notifier.slack.webhook-url" : prefix + "slack-webhook-url";
        String webhookKey = isDefault ? "notifier.webhook.url" : prefix + "webhook-url";
        String secretKey = isDefault ? "notifier.webhook.secret" : prefix + "webhook-secret";
        List<String> to =
                mailTo.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        for (String address : to) {
            if (!address.matches("[^@\\s,<>\"]+@[^@\\s,<>\"]+")) {
                problems.add(mailKey + ": '" + address + "' is not a plain mail address (local@domain)");
            }
        }
        Optional<URI> slackUri = url(slackKey, slack, problems);
        Optional<URI> webhookUri = url(webhookKey, webhook, problems);
        Optional<String> key = secret.filter(s -> !s.isBlank());
        if (webhookUri.isPresent() && key.isEmpty()) {
            problems.add(secretKey + " is required with " + webhookKey + " (receivers verify X-Ctwatch-Signature)");
        }
        if (to.isEmpty() && slack.isEmpty() && webhook.isEmpty()) {
            problems.add(
                    isDefault
                            ? "the default route has no destination: set notifier.mail.to, notifier.slack.webhook-url"
                                    + " or notifier.webhook.url"
                            : "route '" + name + "' has no destination: set " + prefix + "mail-to, " + slackKey + " or "
                                    + webhookKey);
        }
        if (floodLimit < 1) {
            problems.add((isDefault ? "notifier.flood-limit" : prefix + "flood-limit") + " must be at least 1, is "
                    + floodLimit);
        }
        for (Map.Entry<String, String> label : labels.entrySet()) {
            if (label.getValue().isBlank()) {
                problems.add(prefix + "labels." + label.getKey() + " is empty");
            }
        }
        return new Route(
                name, Map.copyOf(labels), kinds, minSeverity, to, slackUri, webhookUri, key, Math.max(1, floodLimit));
    }

    /** An absolute http(s) URL; the message names the key, never the value (it is a secret). */
    private static Optional<URI> url(String key, Optional<String> value, List<String> problems) {
        if (value.isEmpty() || value.get().isBlank()) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(value.get().strip());
            if (!("https".equalsIgnoreCase(uri.getScheme()) || "http".equalsIgnoreCase(uri.getScheme()))
                    || uri.getHost() == null) {
                problems.add(key + " must be an absolute http(s) URL");
                return Optional.empty();
            }
            return Optional.of(uri);
        } catch (URISyntaxException e) {
            problems.add(key + " is not a valid URL");
            return Optional.empty();
        }
    }
}
