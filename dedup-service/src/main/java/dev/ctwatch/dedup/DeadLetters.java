package dev.ctwatch.dedup;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.EventJson;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Records this service cannot process, sent to {@code ctwatch.certificates.observed.v1.dlq} with
 * the headers SmallRye's own dead-letter strategy writes, so operators read one format.
 */
@ApplicationScoped
public class DeadLetters {

    @Inject
    @Channel("observed-dead-letters")
    MutinyEmitter<byte[]> dlq;

    @Inject
    MeterRegistry metrics;

    public void send(CertificateObserved observed, String reason) {
        byte[] value;
        try {
            value = EventJson.mapper().writeValueAsBytes(observed);
        } catch (Exception e) {
            value = String.valueOf(observed).getBytes(StandardCharsets.UTF_8);
        }
        String key = observed.row() == null || observed.row().issuanceKey() == null
                ? null
                : observed.row().issuanceKey().toString();
        send(key, value, reason, null, -1, -1);
    }

    /** A record as it came from Kafka, e.g. one that did not deserialise. */
    public void send(String key, byte[] value, String reason, String topic, int partition, long offset) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("dead-letter-reason", bytes(reason));
        if (topic != null) {
            headers.add("dead-letter-topic", bytes(topic));
            headers.add("dead-letter-partition", bytes(String.valueOf(partition)));
            headers.add("dead-letter-offset", bytes(String.valueOf(offset)));
        }
        dlq.sendMessage(Message.of(value)
                        .addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                                .withKey(key)
                                .withHeaders(headers)
                                .build()))
                .await()
                .atMost(Duration.ofSeconds(30));
        metrics.counter("ctwatch.dedup.dead.letters").increment();
    }

    private static byte[] bytes(String s) {
        return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    }
}
