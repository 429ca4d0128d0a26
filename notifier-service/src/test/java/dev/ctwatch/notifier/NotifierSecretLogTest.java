package dev.ctwatch.notifier;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.HttpReceiver.Answer;
import dev.ctwatch.notifier.channel.Channels;
import dev.ctwatch.notifier.delivery.Delivery;
import dev.ctwatch.notifier.delivery.DeliveryLog;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * No secret in a log line: route "leaky" of {@link NotifierTestResources} fails on Slack (HTTP 500)
 * and on its webhook (connection refused), mail goes out with an SMTP password configured, and the
 * datasource has a distinctive password; then the whole log of the run is searched for all of them.
 */
@QuarkusTest
@WithTestResource(NotifierTestResources.class)
class NotifierSecretLogTest {

    @Inject
    DeliveryLog deliveryLog;

    @Test
    void failingDeliveriesLogTheIssuanceKeyButNoSecret() throws Exception {
        HttpReceiver http = NotifierTestResources.http;
        String slackPath = "/services/T0/B0/" + NotifierTestResources.LEAK_SLACK_TOKEN;
        http.script(slackPath, new Answer(500, "boom", null), new Answer(500, "boom", null));

        // every route once, mail included: the test endpoint answers 502 as some routes fail
        given().post("/api/notifications/test").then().statusCode(502);

        String serial = NotifierHttpTest.serial();
        String name = "leak-" + serial.substring(0, 8) + ".leaky.test";
        CertificateAudited audited = Samples.newCertificate(serial, name, "leaky.test", false, "team", "leaky");
        String key = audited.certificate().key().toString();
        NotifierHttpTest.send(audited);

        await().atMost(Duration.ofSeconds(60))
                .until(() -> attempts(key, Channels.SLACK) >= 2 && attempts(key, Channels.WEBHOOK) >= 2);
        assertThat(row(key, Channels.WEBHOOK).orElseThrow().lastError).contains("no response");

        List<String> lines = Files.readAllLines(NotifierTestResources.LOG, StandardCharsets.UTF_8);
        assertThat(lines)
                .as("the dispatcher's failure lines carry the issuance key in the MDC")
                .anyMatch(
                        l -> l.contains("issuanceKey=" + key) && l.contains("slack of " + key) && l.contains("failed"))
                .anyMatch(l -> l.contains("issuanceKey=" + key) && l.contains("webhook of " + key));

        Map<String, String> secrets = new LinkedHashMap<>();
        secrets.put("Slack webhook URL", NotifierTestResources.leakySlackUrl);
        secrets.put("Slack webhook token", NotifierTestResources.LEAK_SLACK_TOKEN);
        secrets.put("webhook URL", NotifierTestResources.leakyWebhookUrl);
        secrets.put("webhook URL token", NotifierTestResources.LEAK_HOOK_TOKEN);
        secrets.put("webhook secret", NotifierTestResources.LEAK_WEBHOOK_SECRET);
        secrets.put("SMTP password", NotifierTestResources.LEAK_SMTP_PASSWORD);
        if (NotifierTestResources.dbPasswordConfigured) {
            secrets.put("datasource password", NotifierTestResources.LEAK_DB_PASSWORD);
        }
        secrets.forEach((what, value) ->
                assertThat(lines).as("no log line carries the " + what).noneMatch(l -> l.contains(value)));
    }

    private int attempts(String key, String channel) {
        return row(key, channel).map(d -> d.attempts).orElse(0);
    }

    private Optional<Delivery> row(String key, String channel) {
        return QuarkusTransaction.requiringNew().call(() -> deliveryLog.find(key, "leaky", channel, "url"));
    }
}
