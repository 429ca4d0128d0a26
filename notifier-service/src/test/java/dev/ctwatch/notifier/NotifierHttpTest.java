package dev.ctwatch.notifier;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.EventJson;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.notifier.HttpReceiver.Answer;
import dev.ctwatch.notifier.HttpReceiver.Request;
import dev.ctwatch.notifier.channel.Channels;
import dev.ctwatch.notifier.channel.Signatures;
import dev.ctwatch.notifier.delivery.Delivery;
import dev.ctwatch.notifier.delivery.DeliveryLog;
import dev.ctwatch.notifier.digest.Digest;
import dev.ctwatch.notifier.routing.Route;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Slack and webhook routes against a local HTTP receiver (429 and 5xx sequences, a 404), backfill
 * digests, dead letters and the test endpoint; real Kafka and PostgreSQL as in {@link NotifierMailTest}.
 */
@QuarkusTest
@WithTestResource(NotifierTestResources.class)
class NotifierHttpTest {
    static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    DeliveryLog deliveryLog;

    @Test
    void slackAndWebhookAreRetriedOn429And5xxHonouringRetryAfterAndDeliveredOnceSigned() throws Exception {
        HttpReceiver http = NotifierTestResources.http;
        String serial = serial();
        String name = "retry-" + serial.substring(0, 8) + ".web.test";
        CertificateAudited audited = Samples.newCertificate(serial, name, "web.test", false, "team", "web");
        String key = audited.certificate().key().toString();
        http.script("/slack/web", new Answer(429, "rate_limited", "1"), new Answer(500, "rollup_error", null));
        http.script("/hooks/web", new Answer(503, "busy", null), new Answer(500, "oops", null));

        send(audited);

        await().atMost(Duration.ofSeconds(60))
                .until(() -> status(key, "web", Channels.SLACK, "url")
                        .filter(Delivery.SENT::equals)
                        .isPresent());
        await().atMost(Duration.ofSeconds(60))
                .until(() -> status(key, "web", Channels.WEBHOOK, "url")
                        .filter(Delivery.SENT::equals)
                        .isPresent());

        List<Request> slack = forName(http.requests("/slack/web"), name);
        assertThat(slack).extracting(Request::status).containsExactly(429, 500, 200);
        assertThat(Duration.between(slack.get(0).at(), slack.get(1).at()))
                .as("Retry-After: 1 is honoured")
                .isGreaterThanOrEqualTo(Duration.ofMillis(950));
        JsonNode message = EventJson.mapper().readTree(slack.get(2).body());
        assertThat(message.get("text").asText()).startsWith("New certificate for web.test: " + name);
        assertThat(message.get("blocks").get(0).at("/text/text").asText())
                .isEqualTo("New certificate for web.test: " + name);

        List<Request> hooks = forName(http.requests("/hooks/web"), name);
        assertThat(hooks).extracting(Request::status).containsExactly(503, 500, 200);
        for (Request hook : hooks) {
            assertThat(hook.header("X-Ctwatch-Signature"))
                    .isEqualTo(Signatures.sign(
                            NotifierTestResources.SECRET, hook.body().getBytes(StandardCharsets.UTF_8)));
            assertThat(hook.header("Idempotency-Key")).isEqualTo(key + "/web");
            assertThat(hook.header("Content-Type")).startsWith("application/json");
        }
        assertThat(EventJson.mapper().readValue(hooks.get(2).body(), CertificateAudited.class))
                .isEqualTo(audited);
        assertThat(row(key, "web", Channels.WEBHOOK, "url").orElseThrow().attempts)
                .isEqualTo(3);
        assertThat(status(key, Route.DEFAULT, Channels.MAIL, "secops@caa.test"))
                .as("a team route takes it, so the default route does not")
                .isEmpty();

        given().get("/q/metrics")
                .then()
                .body(containsString("ctwatch_notify_retries_total{channel=\"slack\"}"))
                .body(containsString("ctwatch_notify_deliveries_total{channel=\"webhook\",outcome=\"failed\"}"));
    }

    @Test
    void aRejectedWebhookIsNotRetriedAndGoesToTheDeadLetterTopic() throws Exception {
        HttpReceiver http = NotifierTestResources.http;
        String serial = serial();
        String name = "gone-" + serial.substring(0, 8) + ".gone.test";
        CertificateAudited audited = Samples.newCertificate(serial, name, "gone.test", false, "team", "gone");
        String key = audited.certificate().key().toString();
        http.script("/hooks/gone", new Answer(404, "no such hook", null));

        send(audited);

        ConsumerRecord<String, String> dead = awaitDeadLetter(key);
        assertThat(header(dead, "dead-letter-reason")).startsWith("rejected: HTTP 404 no such hook");
        assertThat(header(dead, "dead-letter-route")).isEqualTo("gone");
        assertThat(header(dead, "dead-letter-channel")).isEqualTo("webhook");
        assertThat(EventJson.mapper().readValue(dead.value(), CertificateAudited.class))
                .isEqualTo(audited);
        assertThat(forName(http.requests("/hooks/gone"), name)).hasSize(1);
        // the dead letter is out before the row records it
        await().atMost(Duration.ofSeconds(10))
                .until(() -> status(key, "gone", Channels.WEBHOOK, "url")
                        .filter(Delivery.DEAD::equals)
                        .isPresent());
        Delivery row = row(key, "gone", Channels.WEBHOOK, "url").orElseThrow();
        assertThat(row.status).isEqualTo(Delivery.DEAD);
        assertThat(row.lastError).doesNotContain("127.0.0.1");
        given().get("/q/metrics").then().body(containsString("ctwatch_notify_dead_letters_total{channel=\"webhook\"}"));
    }

    @Test
    void backfillBecomesOneDigestPerWatchEntryButFindingsAreSentAlone() throws Exception {
        HttpReceiver http = NotifierTestResources.http;
        String entry = "digest-" + serial().substring(0, 8) + ".test";
        List<CertificateAudited> backfill = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            backfill.add(Samples.newCertificate(serial(), "h" + i + "." + entry, entry, true, "team", "digest"));
        }
        CertificateAudited finding =
                Samples.asFinding(Samples.newCertificate(serial(), "bad." + entry, entry, true, "team", "digest"));
        // one producer, back to back: the digest window (3 s) counts from the first item, so a slow
        // producer per record could let the window close before the last backfill item is in
        List<CertificateAudited> records = new ArrayList<>(backfill);
        records.add(finding);
        records.add(backfill.get(0)); // redelivered: collected once
        sendAll(records);

        await().atMost(Duration.ofSeconds(60))
                .until(() -> forName(http.requests("/slack/digest"), entry).size() >= 2);
        TimeUnit.SECONDS.sleep(4); // longer than the window: nothing else may come
        List<Request> messages = forName(http.requests("/slack/digest"), entry);
        List<String> texts = new ArrayList<>();
        for (Request message : messages) {
            texts.add(EventJson.mapper().readTree(message.body()).get("text").asText());
        }
        assertThat(texts)
                .containsExactlyInAnyOrder(
                        "3 certificates for newly watched " + entry + " (backfill digest)",
                        "Possible CAA non-compliance: bad." + entry + " <https://crt.sh/?id=3616204835>");
        String digest = messages.stream()
                .filter(m -> m.body().contains("backfill digest"))
                .findFirst()
                .orElseThrow()
                .body();
        for (int i = 0; i < 3; i++) {
            assertThat(digest).contains("h" + i + "." + entry);
        }
        // the digest is keyed by the first item the notifier took, and the items come from three
        // partitions in no set order; the message is out before the row records it
        List<String> digestKeys = backfill.stream()
                .map(c -> Digest.key(entry, c.certificate().key().toString()))
                .toList();
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(digestKeys)
                        .map(k -> status(k, "digest", Channels.SLACK, "url"))
                        .filteredOn(Optional::isPresent)
                        .containsExactly(Optional.of(Delivery.SENT)));
        given().get("/q/metrics").then().body(containsString("ctwatch_notify_digest_size_count"));
    }

    @Test
    void testEndpointSendsThroughEveryRouteAndAnswersPerRoute() {
        NotifierTestResources.http.script("/hooks/gone", new Answer(404, "no such hook", null));
        JsonPath answer = given().post("/api/notifications/test")
                .then()
                .statusCode(502) // route "gone" answers 404
                .extract()
                .jsonPath();
        List<Map<String, String>> results = answer.getList("results");
        assertThat(results)
                .extracting(r ->
                        r.get("route") + "/" + r.get("channel") + "/" + r.get("recipient") + "=" + r.get("outcome"))
                .contains(
                        "default/mail/secops@caa.test=sent",
                        "default/mail/owner@caa.test=sent",
                        "web/slack/url=sent",
                        "web/webhook/url=sent",
                        "digest/slack/url=sent");
        assertThat(results)
                .filteredOn(r -> r.get("route").equals("gone"))
                .singleElement()
                .satisfies(r -> assertThat(r.get("outcome")).isEqualTo("rejected"));
        assertThat(answer.prettify()).doesNotContain("127.0.0.1").doesNotContain(NotifierTestResources.SECRET);
    }

    static List<Request> forName(List<Request> requests, String name) {
        return requests.stream().filter(r -> r.body().contains(name)).toList();
    }

    private Optional<Delivery> row(String key, String route, String channel, String recipient) {
        return QuarkusTransaction.requiringNew().call(() -> deliveryLog.find(key, route, channel, recipient));
    }

    private Optional<String> status(String key, String route, String channel, String recipient) {
        return row(key, route, channel, recipient).map(d -> d.status);
    }

    static void send(CertificateAudited audited) throws Exception {
        sendAll(List.of(audited));
    }

    /** Sends the records in order through one producer and waits for the broker to take them all. */
    static void sendAll(List<CertificateAudited> records) throws Exception {
        Map<String, Object> props =
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(), ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, CertificateAudited> producer =
                new KafkaProducer<>(props, new StringSerializer(), new EventSerializer<>())) {
            List<Future<?>> sent = new ArrayList<>();
            for (CertificateAudited audited : records) {
                sent.add(producer.send(new ProducerRecord<>(
                        topic(), audited.certificate().key().toString(), audited)));
            }
            for (Future<?> ack : sent) {
                ack.get(30, TimeUnit.SECONDS);
            }
        }
    }

    static ConsumerRecord<String, String> awaitDeadLetter(String key) {
        Map<String, Object> props = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "dlq-reader-" + UUID.randomUUID());
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition dlq = new TopicPartition(NotifierTestResources.DLQ, 0);
            consumer.assign(List.of(dlq));
            consumer.seekToBeginning(List.of(dlq));
            List<ConsumerRecord<String, String>> seen = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(500)).forEach(seen::add);
                return seen.stream().anyMatch(r -> key.equals(r.key()));
            });
            return seen.stream().filter(r -> key.equals(r.key())).findFirst().orElseThrow();
        }
    }

    static String header(ConsumerRecord<String, String> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    static String topic() {
        return ConfigProvider.getConfig().getValue("mp.messaging.incoming.certificates-audited.topic", String.class);
    }

    static String serial() {
        return new BigInteger(120, RANDOM).setBit(119).toString(16);
    }
}
