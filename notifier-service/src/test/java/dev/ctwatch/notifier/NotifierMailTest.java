package dev.ctwatch.notifier;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.notifier.channel.Channels;
import dev.ctwatch.notifier.delivery.Delivery;
import dev.ctwatch.notifier.delivery.DeliveryLog;
import dev.ctwatch.notifier.delivery.Planner;
import dev.ctwatch.notifier.render.WebhookRenderer;
import dev.ctwatch.notifier.routing.Route;
import dev.ctwatch.notifier.routing.Routing;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.mail.BodyPart;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Real Kafka in, real SMTP out, real PostgreSQL for the delivery log. */
@QuarkusTest
@WithTestResource(NotifierTestResources.class)
class NotifierMailTest {
    static final List<String> RECIPIENTS = List.of("secops@caa.test", "owner@caa.test");
    static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    DeliveryLog deliveryLog;

    @Inject
    Routing routing;

    @Inject
    EntityManager em;

    @Test
    void oneMailPerRecipientAndRedeliveryIsSilent() throws Exception {
        String serial = serial();
        String name = "icheck-" + serial.substring(0, 10) + ".lbapps.com";
        CertificateAudited audited = Samples.withKeyAndName(serial, name);
        String key = audited.certificate().key().toString();

        RecordMetadata first = send(audited, null);
        await().atMost(Duration.ofSeconds(60)).until(() -> mailsFor(name).size() == RECIPIENTS.size());

        // Redelivery: the same record twice more, then a marker behind them on the same partition.
        send(audited, first.partition());
        send(audited, first.partition());
        String markerSerial = serial();
        String marker = "marker-" + markerSerial.substring(0, 10) + ".lbapps.com";
        send(Samples.withKeyAndName(markerSerial, marker), first.partition());
        await().atMost(Duration.ofSeconds(60)).until(() -> mailsFor(marker).size() == RECIPIENTS.size());

        List<MimeMessage> mails = mailsFor(name);
        assertThat(mails).hasSize(RECIPIENTS.size());
        List<String> to = new ArrayList<>();
        for (MimeMessage mail : mails) {
            to.add(mail.getRecipients(RecipientType.TO)[0].toString());
            assertThat(mail.getSubject()).isEqualTo("[ctwatch] Possible CAA non-compliance: " + name);
            assertThat(mail.getFrom()[0].toString()).isEqualTo("ctwatch@localhost");
            assertThat(part(mail, "text/plain"))
                    .startsWith("Possible CAA non-compliance: " + name)
                    .contains("https://crt.sh/?id=3616204835")
                    .contains("CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US")
                    .contains(serial)
                    .contains("FORBIDDEN, records at lbapps.com");
            assertThat(part(mail, "text/html"))
                    .contains("<h1>Possible CAA non-compliance: " + name + "</h1>")
                    .contains("<a href=\"https://crt.sh/?id=3616206571\">");
        }
        assertThat(to).containsExactlyInAnyOrderElementsOf(RECIPIENTS);

        for (String recipient : RECIPIENTS) {
            Delivery row = row(key, recipient).orElseThrow();
            assertThat(row.status).isEqualTo(Delivery.SENT);
            assertThat(row.attempts).isEqualTo(1);
            assertThat(row.deliveredAt).isNotNull();
        }

        given().get("/q/metrics")
                .then()
                .statusCode(200)
                .body(containsString("ctwatch_notify_deliveries_total{channel=\"mail\",outcome=\"duplicate\"}"))
                .body(containsString("ctwatch_notify_send_seconds_count{channel=\"mail\"}"));
    }

    @Test
    void aSerialReuseOfAnIssuanceAlreadyNotifiedIsSentAndOnlyOnce() throws Exception {
        String serial = serial();
        String name = "reuse-" + serial.substring(0, 10) + ".lbapps.com";
        CertificateAudited first = Samples.withKeyAndName(serial, name);
        RecordMetadata sent = send(first, null);
        await().atMost(Duration.ofSeconds(60)).until(() -> mailsFor(name).size() == RECIPIENTS.size());

        // dedup emits the second certificate of the same issuer and serial under the same key
        CertificateAudited reuse = Samples.serialReuseOf(first, "ab".repeat(32));
        assertThat(reuse.certificate().key()).isEqualTo(first.certificate().key());
        send(reuse, sent.partition());
        send(reuse, sent.partition()); // and its redelivery stays silent
        String markerSerial = serial();
        String marker = "marker-" + markerSerial.substring(0, 10) + ".lbapps.com";
        send(Samples.withKeyAndName(markerSerial, marker), sent.partition());
        await().atMost(Duration.ofSeconds(60)).until(() -> mailsFor(marker).size() == RECIPIENTS.size());

        List<MimeMessage> mails = mailsFor(name);
        assertThat(mails).hasSize(2 * RECIPIENTS.size());
        assertThat(mails)
                .filteredOn(m -> subject(m).startsWith("[ctwatch] Serial reuse"))
                .hasSize(RECIPIENTS.size());
    }

    @Test
    void smtpOutageIsRetriedAndDeliveredOnceWhenSmtpIsBack() throws Exception {
        String serial = serial();
        String name = "outage-" + serial.substring(0, 10) + ".lbapps.com";
        CertificateAudited audited = Samples.withKeyAndName(serial, name);
        String key = audited.certificate().key().toString();

        NotifierTestResources.stopSmtp();
        try {
            send(audited, null);
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> row(key, RECIPIENTS.get(0))
                            .map(d -> Delivery.FAILED.equals(d.status) && d.attempts >= 2)
                            .orElse(false));
            assertThat(row(key, RECIPIENTS.get(0)).orElseThrow().lastError).isNotBlank();
        } finally {
            NotifierTestResources.startSmtp();
        }

        await().atMost(Duration.ofSeconds(60)).until(() -> mailsFor(name).size() == RECIPIENTS.size());
        for (String recipient : RECIPIENTS) {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> row(key, recipient)
                            .map(d -> Delivery.SENT.equals(d.status))
                            .orElse(false));
            assertThat(row(key, recipient).orElseThrow().attempts).isGreaterThan(1);
        }
        TimeUnit.SECONDS.sleep(2);
        assertThat(mailsFor(name)).hasSize(RECIPIENTS.size());
    }

    @Test
    void aFailedDeliveryLeftByAnEarlierProcessIsRetriedFromTheLog() throws Exception {
        // the state a crashed or restarted notifier leaves: a FAILED row, due, with its message
        String serial = serial();
        String name = "restart-" + serial.substring(0, 10) + ".lbapps.com";
        CertificateAudited audited = Samples.withKeyAndName(serial, name);
        String key = audited.certificate().key().toString();
        Planner.Pending pending = routing.planner()
                .single(routing.router().find(Route.DEFAULT).orElseThrow(), audited)
                .get(0);
        QuarkusTransaction.requiringNew()
                .run(() -> em.createNativeQuery("INSERT INTO notifier.delivery (issuance_key, route, channel,"
                                + " recipient, status, attempts, first_attempt_at, next_attempt_at, payload, event,"
                                + " last_error) VALUES (:key, 'default', 'mail', :to, 'FAILED', 3,"
                                + " now() - interval '1 hour', now() - interval '1 second', :payload, :event,"
                                + " 'SMTP down before the restart')")
                        .setParameter("key", key)
                        .setParameter("to", pending.recipient())
                        .setParameter("payload", WebhookRenderer.write(pending.message()))
                        .setParameter("event", pending.event())
                        .executeUpdate());

        await().atMost(Duration.ofSeconds(30)).until(() -> mailsFor(name).size() == 1);
        // the mail is out before the row records it: wait for the log, not the inbox
        await().atMost(Duration.ofSeconds(10))
                .until(() -> row(key, pending.recipient())
                        .map(d -> !Delivery.FAILED.equals(d.status))
                        .orElse(false));
        Delivery row = row(key, pending.recipient()).orElseThrow();
        assertThat(row.status).isEqualTo(Delivery.SENT);
        assertThat(row.attempts).isEqualTo(4);
        assertThat(row.lastError).isNull();
    }

    @Test
    void unreadableRecordGoesToTheDeadLetterTopic() throws Exception {
        String key = "16418:" + serial();
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(producerProps(), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic(), key, "{not json".getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> props = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "dlq-reader-" + UUID.randomUUID());
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition dlq = new TopicPartition(NotifierTestResources.DLQ, 0);
            consumer.assign(List.of(dlq));
            consumer.seekToBeginning(List.of(dlq));
            List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(500)).forEach(seen::add);
                return seen.stream().anyMatch(r -> key.equals(r.key()));
            });
            ConsumerRecord<String, byte[]> dead =
                    seen.stream().filter(r -> key.equals(r.key())).findFirst().orElseThrow();
            assertThat(dead.headers().lastHeader("dead-letter-reason")).isNotNull();
        }
    }

    private RecordMetadata send(CertificateAudited audited, Integer partition) throws Exception {
        try (KafkaProducer<String, CertificateAudited> producer =
                new KafkaProducer<>(producerProps(), new StringSerializer(), new EventSerializer<>())) {
            return producer.send(new ProducerRecord<>(
                            topic(), partition, audited.certificate().key().toString(), audited))
                    .get(30, TimeUnit.SECONDS);
        }
    }

    private static Map<String, Object> producerProps() {
        return Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap(),
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true);
    }

    private static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    private static String topic() {
        return ConfigProvider.getConfig().getValue("mp.messaging.incoming.certificates-audited.topic", String.class);
    }

    private Optional<Delivery> row(String key, String recipient) {
        // Awaitility runs conditions on another thread: open a transaction of our own
        return QuarkusTransaction.requiringNew()
                .call(() -> deliveryLog.find(key, Route.DEFAULT, Channels.MAIL, recipient));
    }

    private static String subject(MimeMessage mail) {
        try {
            return mail.getSubject();
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<MimeMessage> mailsFor(String name) throws MessagingException {
        List<MimeMessage> out = new ArrayList<>();
        for (MimeMessage message : Arrays.asList(NotifierTestResources.greenMail.getReceivedMessages())) {
            if (message.getSubject() != null && message.getSubject().contains(name)) {
                out.add(message);
            }
        }
        return out;
    }

    private static String part(Part part, String mimeType) throws MessagingException, IOException {
        if (part.isMimeType(mimeType)) {
            return part.getContent().toString();
        }
        if (part.getContent() instanceof Multipart multipart) {
            for (int i = 0; i < multipart.getCount(); i++) {
                BodyPart body = multipart.getBodyPart(i);
                String found = part(body, mimeType);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static String serial() {
        // random 120-bit serial, leading digit non-zero as in the canonical key form
        return new BigInteger(120, RANDOM).setBit(119).toString(16);
    }
}
