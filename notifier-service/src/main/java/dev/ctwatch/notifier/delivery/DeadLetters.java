package dev.ctwatch.notifier.delivery;

import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Writes given-up deliveries to the dead-letter topic of the input (by default
 * {@code ctwatch.certificates.audited.v1.dlq}): the audited event as it came, keyed by issuance, with
 * headers saying why, so an operator can replay it.
 */
@ApplicationScoped
public class DeadLetters {
    public static final String CHANNEL = "notifier-dead-letters";

    @Inject
    @Channel(CHANNEL)
    MutinyEmitter<String> emitter;

    @ConfigProperty(name = "mp.messaging.incoming.certificates-audited.topic")
    String inputTopic;

    /** Waits for the broker's ack, so a delivery is marked dead only once its record is stored. */
    public void send(String issuanceKey, String event, String route, String channel, int attempts, String reason) {
        RecordHeaders headers = new RecordHeaders();
        header(headers, "dead-letter-reason", reason);
        header(headers, "dead-letter-topic", inputTopic);
        header(headers, "dead-letter-route", route);
        header(headers, "dead-letter-channel", channel);
        header(headers, "dead-letter-attempts", String.valueOf(attempts));
        emitter.sendMessageAndAwait(Message.of(event)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                        .withKey(issuanceKey)
                        .withHeaders(headers)
                        .build()));
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
