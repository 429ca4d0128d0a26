package dev.ctwatch.fetcher;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.EventSerializer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes observed rows to {@code ctwatch.certificates.observed.v1} with a plain Kafka producer and
 * the CloudEvents headers (binary mode) the contract names. Not a SmallRye emitter on purpose: a
 * poll may publish 200,000 rows, and the emitter's per-message pipeline (metadata lookups, a retry
 * operator per record, context propagation, the ack chain) cost three times what the producer
 * itself does (figures in the module README). The producer retries on its own (idempotent,
 * {@code acks=all}, {@code delivery.timeout.ms}); a record it gives up on fails the poll, which is
 * retried.
 */
@ApplicationScoped
public class ObservedPublisher {
    static final String CE_TYPE = "dev.ctwatch.certificate.observed.v1";
    static final String CE_SOURCE = "urn:ctwatch:fetcher-service";
    private static final Header SPEC_VERSION = header("ce_specversion", "1.0");
    private static final Header TYPE = header("ce_type", CE_TYPE);
    private static final Header SOURCE = header("ce_source", CE_SOURCE);
    private static final Header CONTENT_TYPE = header("content-type", "application/json");

    /** Every {@code kafka.*} property of the application (bootstrap servers, security), as Quarkus reads them. */
    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafka;

    @Inject
    FetcherConfig config;

    @Inject
    MeterRegistry metrics;

    private Producer<String, CertificateObserved> producer;
    private KafkaClientMetrics producerMetrics;
    private String topic;
    // one poll publishes at a time (Poller.poll is synchronized); its fetch time is one header value
    private Instant timeOf;
    private Header time;

    @PostConstruct
    void start() {
        Map<String, Object> properties = new HashMap<>(kafka);
        properties.put(ProducerConfig.CLIENT_ID_CONFIG, "fetcher-service-observed");
        // no acknowledgement short of all replicas, no duplicates from the producer's own retries
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producer = new KafkaProducer<>(properties, new StringSerializer(), new EventSerializer());
        producerMetrics = new KafkaClientMetrics(producer);
        producerMetrics.bindTo(metrics);
        topic = config.publish().topic();
    }

    /**
     * Hands one record to the producer; {@code done} runs on the producer's I/O thread once the
     * broker acknowledged it or the producer gave up. May block while the producer's buffer is full.
     */
    void send(String key, CertificateObserved event, Callback done) {
        if (!event.fetchedAt().equals(timeOf)) {
            timeOf = event.fetchedAt();
            time = header("ce_time", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(timeOf.atOffset(ZoneOffset.UTC)));
        }
        List<Header> headers = List.of(SPEC_VERSION, header("ce_id", randomUuid()), TYPE, SOURCE, time, CONTENT_TYPE);
        producer.send(new ProducerRecord<>(topic, null, key, event, headers), done);
    }

    @PreDestroy
    void stop() {
        producerMetrics.close();
        producer.close(Duration.ofSeconds(10));
    }

    /**
     * A version 4 UUID from a fast generator: a CloudEvents id must be unique per source, not
     * unguessable, and {@link UUID#randomUUID()} (SecureRandom) cost more than the send itself.
     */
    static String randomUuid() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L;
        long low = (random.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48);
        return new UUID(high, low).toString();
    }

    private static Header header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
