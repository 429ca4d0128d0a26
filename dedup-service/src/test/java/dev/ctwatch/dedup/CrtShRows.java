package dev.ctwatch.dedup;

import static org.awaitility.Awaitility.await;

import dev.ctwatch.dedup.certificate.TestCa;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.events.WatchMatch;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Certificates the in-test crt.sh serves ({@link DedupTestResources}), the observed rows that point
 * at them, and the test topic they are sent to: what the dedup tests feed the service.
 */
final class CrtShRows implements AutoCloseable {
    static final DateTimeFormatter CRTSH =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final AtomicLong IDS =
            new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 52));

    final Instant notBefore = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private final TestCa ca;
    private final KafkaProducer<String, byte[]> producer;
    /** Holds records until {@link #sendTogether} flushes them: one batch on the broker, one fetch. */
    private final KafkaProducer<String, byte[]> together;

    CrtShRows() throws Exception {
        ca = new TestCa("Dedup Test CA");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, DedupTestResources.bootstrap);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties held = new Properties();
        held.putAll(p);
        held.put(ProducerConfig.LINGER_MS_CONFIG, 60_000);
        together = new KafkaProducer<>(held, new StringSerializer(), new ByteArraySerializer());
    }

    /** A crt.sh id no other test uses. */
    static long nextId() {
        return IDS.incrementAndGet();
    }

    /** An issuer id of its own, so a test sees only its own events. */
    static long issuer() {
        return ThreadLocalRandom.current().nextLong(1_000_000, Integer.MAX_VALUE);
    }

    static BigInteger serial() {
        return new BigInteger(120, ThreadLocalRandom.current()).setBit(100);
    }

    /** Issues a certificate and has crt.sh serve it under a new id, which it returns. */
    long serve(BigInteger serial, boolean precertificate, String... names) throws Exception {
        long id = nextId();
        byte[] der = ca.issue(serial, List.of(names), precertificate, notBefore);
        DedupTestResources.PEMS.put(id, TestCa.pem(der));
        return id;
    }

    CertificateObserved observed(long id, long issuer, BigInteger serial, boolean backfill, String... names) {
        return observed(id, issuer, serial.toString(16), backfill, names);
    }

    /** crt.sh's row for the certificate, with the serial spelt as given. */
    CertificateObserved observed(long id, long issuer, String serial, boolean backfill, String... names) {
        CrtShRow row = new CrtShRow(
                id,
                issuer,
                "C=ZZ, O=ctwatch test, CN=Dedup Test CA",
                names[0],
                String.join("\n", names),
                CRTSH.format(notBefore),
                CRTSH.format(notBefore),
                CRTSH.format(notBefore.plus(90, ChronoUnit.DAYS)),
                serial,
                names.length);
        return new CertificateObserved(row, List.of(new WatchMatch("test", true, Map.of())), Instant.now(), backfill);
    }

    /** Sends the row keyed by its issuance key and waits for the broker. */
    void send(CertificateObserved observed) throws Exception {
        send(new ProducerRecord<>(
                DedupTestResources.OBSERVED,
                observed.row().issuanceKey().toString(),
                new EventSerializer<CertificateObserved>().serialize("t", observed)));
    }

    void send(ProducerRecord<String, byte[]> record) throws Exception {
        producer.send(record).get();
    }

    /**
     * Sends records of one partition as one producer batch, then flushes: they land on the broker
     * together and reach the consumer in one fetch. With the default linger of a few milliseconds a
     * test thread descheduled between two sends would split them into two fetches.
     */
    void sendTogether(List<ProducerRecord<String, byte[]>> records) throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (ProducerRecord<String, byte[]> record : records) {
            sent.add(together.send(record));
        }
        together.flush();
        for (Future<RecordMetadata> ack : sent) {
            ack.get();
        }
    }

    static <V> KafkaConsumer<String, V> consumer(Deserializer<V> values) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, DedupTestResources.bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "dedup-test-reader-" + nextId());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(p, new StringDeserializer(), values);
    }

    /** Every record on a topic, read from its beginning to its end as it is now. */
    static <V> List<ConsumerRecord<String, V>> readToEnd(String topic, Deserializer<V> values) {
        try (KafkaConsumer<String, V> consumer = consumer(values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, V>> records = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
            });
            return records;
        }
    }

    /** The crt.sh ids linked to an issuance of this issuer. */
    @SuppressWarnings("unchecked")
    static List<Long> crtShIds(EntityManager em, long issuer) {
        return QuarkusTransaction.requiringNew()
                .call(() -> ((List<Number>) em.createNativeQuery(
                                        "select e.crtsh_id from dedup.crtsh_entry e join dedup.issuance i on i.id = e.issuance_id"
                                                + " where i.issuer_ca_id = ?1")
                                .setParameter(1, issuer)
                                .getResultList())
                        .stream().map(Number::longValue).toList());
    }

    @Override
    public void close() {
        producer.close();
        together.close();
    }
}
