package dev.ctwatch.notifier;

import dev.ctwatch.notifier.channel.Channels;
import dev.ctwatch.notifier.channel.HttpChannels;
import dev.ctwatch.notifier.channel.MailChannel;
import dev.ctwatch.notifier.channel.SendResult;
import dev.ctwatch.notifier.render.MailRenderer;
import dev.ctwatch.notifier.render.Outbound;
import dev.ctwatch.notifier.render.SlackRenderer;
import dev.ctwatch.notifier.render.WebhookRenderer;
import dev.ctwatch.notifier.routing.Route;
import dev.ctwatch.notifier.routing.Router;
import dev.ctwatch.notifier.routing.Routing;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code POST /api/notifications/test}: one test message through every destination of every route,
 * sent at once (not through the delivery log, not retried); the answer lists the outcome of each.
 * 200 when all were sent, 502 otherwise.
 */
@Path("/api/notifications/test")
public class TestNotificationResource {
    private final Router router;
    private final MailChannel mail;
    private final HttpChannels http;
    private final NotifierConfig config;
    private final SlackRenderer slack = new SlackRenderer();

    TestNotificationResource(Routing routing, MailChannel mail, HttpChannels http, NotifierConfig config) {
        this.router = routing.router();
        this.mail = mail;
        this.http = http;
        this.config = config;
    }

    /** One destination's outcome; {@code recipient} is a mail address or {@code url} (never the URL itself). */
    public record Result(String route, String channel, String recipient, String outcome, String detail) {}

    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public Response test() {
        String id = UUID.randomUUID().toString();
        List<Result> results = new ArrayList<>();
        for (Route route : router.all()) {
            String headline = "ctwatch test notification for route " + route.name();
            String body = "This is a test of route " + route.name() + " (" + id + ", " + Instant.now()
                    + "). No certificate is involved.";
            for (Route.Destination destination : route.destinations()) {
                SendResult result = switch (destination.channel()) {
                    case Channels.MAIL ->
                        mail.send(
                                destination.recipient(),
                                new Outbound(
                                        prefixed(headline),
                                        body + "\n",
                                        "<p>" + MailRenderer.escape(body) + "</p>",
                                        null));
                    case Channels.SLACK -> http.slack(route.slackWebhook().orElseThrow(), slack.plain(headline, body));
                    default ->
                        http.webhook(
                                route.webhook().orElseThrow(),
                                route.webhookSecret().orElseThrow(),
                                Outbound.json(
                                        null,
                                        WebhookRenderer.write(
                                                Map.of("type", "ctwatch.test", "route", route.name(), "id", id))),
                                "test:" + id + "/" + route.name());
                };
                results.add(new Result(
                        route.name(),
                        destination.channel(),
                        destination.recipient(),
                        result.outcome().name().toLowerCase(),
                        result.detail()));
            }
        }
        boolean allSent = results.stream().allMatch(r -> r.outcome().equals("sent"));
        return Response.status(allSent ? 200 : 502)
                .entity(Map.of("results", results))
                .build();
    }

    private String prefixed(String headline) {
        String prefix = config.mail().subjectPrefix();
        return prefix.isBlank() ? headline : prefix + " " + headline;
    }
}
