package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.dedup.certificate.TestCa;
import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventDeserializer;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.events.WatchMatch;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The late download of backfill rows' certificates ({@link BackfillCompletion}), end to end: real
 * Kafka and PostgreSQL, the crt.sh download stand-in. The scheduled run is off in tests; each test
 * runs the job itself, so what it downloads is exactly what the test queued.
 */
@QuarkusTest
@WithTestResource(DedupTestResources.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackfillCompletionTest {
    private static final DateTimeFormatter CRTSH =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final AtomicLong IDS =
            new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 51, 1L << 52));

    @Inject
    EntityManager em;

    @Inject
    BackfillCompletion completion;

    private KafkaProducer<String, byte[]> producer;
    private TestCa ca;
    private Instant notBefore;

    @BeforeAll
    void setUp() throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, DedupTestResources.bootstrap);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        ca = new TestCa("Dedup Test CA");
        notBefore = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    @AfterAll
    void tearDown() {
        producer.close();
    }

    /** Other test classes' backfill rows stay out of this class's runs and budgets. */
    @BeforeEach
    void emptyQueue() {
        QuarkusTransaction.requiringNew()
                .run(() -> em.createNativeQuery("delete from dedup.backfill_download")
                        .executeUpdate());
    }

    @Test
    void backfillRowsAreRecordedWithoutDownloadsAndCompletedLaterWithoutASecondEvent() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long pre = serve(serial, true, "pair.completion.test");
        long fin = serve(serial, false, "pair.completion.test");
        send(observed(pre, issuer, serial, true, "pair.completion.test"));
        send(observed(fin, issuer, serial, true, "pair.completion.test"));
        awaitQueued(pre, fin);

        assertThat(allDiscovered(issuer)).singleElement().satisfies(e -> {
            assertThat(e.backfill()).isTrue();
            assertThat(e.derBase64()).isNull();
        });
        assertThat(DedupTestResources.DOWNLOADS).doesNotContainKeys(pre, fin);
        assertThat(issuances(issuer)).singleElement().satisfies(i -> {
            assertThat(i.tbs()).isEmpty();
            assertThat(i.downloaded()).isFalse();
        });

        BackfillCompletion.Run run = completion.run(10);

        assertThat(run.downloads()).isEqualTo(2);
        assertThat(downloads(pre, fin)).isEqualTo(2);
        assertThat(issuances(issuer)).singleElement().satisfies(i -> {
            assertThat(i.tbs()).hasSize(64);
            assertThat(i.fingerprint()).hasSize(64);
            assertThat(i.issuerDn()).contains("CN=Dedup Test CA").contains("O=ctwatch test");
            assertThat(i.subjectDn()).isEqualTo("CN=pair.completion.test");
            // the lower crt.sh id, the precertificate, filled it in; the final certificate confirmed it
            assertThat(i.precertificate()).isTrue();
            assertThat(i.downloaded()).isTrue();
            assertThat(i.anomaly()).isNull();
        });
        assertThat(crtShIds(issuer)).containsExactlyInAnyOrder(pre, fin);
        assertThat(queued()).doesNotContain(pre, fin);
        // the backfill event was the alert: completing the issuance emits nothing
        assertThat(allDiscovered(issuer)).hasSize(1);
        assertThat(RestAssured.get("/q/metrics").asString())
                .contains("ctwatch_dedup_backfill_completed_total{outcome=\"completed\"")
                .contains("ctwatch_dedup_backfill_completed_total{outcome=\"twin\"")
                .contains("ctwatch_dedup_backfill_pending");
    }

    @Test
    void aRunDownloadsNoMoreThanItsBudget() throws Exception {
        long issuer = issuer();
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            BigInteger serial = serial();
            long id = serve(serial, false, "budget" + i + ".completion.test");
            send(observed(id, issuer, serial, true, "budget" + i + ".completion.test"));
            ids.add(id);
        }
        awaitQueued(ids.toArray(Long[]::new));

        assertThat(completion.run(2).downloads()).isEqualTo(2);
        assertThat(downloads(ids.toArray(Long[]::new))).isEqualTo(2);
        assertThat(queued()).containsAnyElementsOf(ids).hasSize(1);

        assertThat(completion.run(2).downloads()).isEqualTo(1);
        assertThat(downloads(ids.toArray(Long[]::new))).isEqualTo(3);
        assertThat(issuances(issuer))
                .hasSize(3)
                .allSatisfy(i -> assertThat(i.downloaded()).isTrue());
        assertThat(allDiscovered(issuer)).hasSize(3);
    }

    @Test
    void aCrtSh503DuringCompletionLeavesTheRowForALaterRun() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long id = serve(serial, false, "later.completion.test");
        send(observed(id, issuer, serial, true, "later.completion.test"));
        awaitQueued(id);
        DedupTestResources.FAILURES.put(id, 503);
        try {
            BackfillCompletion.Run run = completion.run(5);
            assertThat(run.deferred()).isEqualTo(1);
            assertThat(run.downloads()).isZero();
        } finally {
            DedupTestResources.FAILURES.remove(id);
        }
        // one request: no quick retries inside a run, the row simply waits for a later one
        assertThat(downloads(id)).isEqualTo(1);
        assertThat(queued()).contains(id);
        assertThat(lastError(id)).contains("HTTP 503");
        assertThat(issuances(issuer))
                .singleElement()
                .satisfies(i -> assertThat(i.downloaded()).isFalse());

        // its next attempt is a retry delay (1 s in tests) away
        await().atMost(Duration.ofSeconds(30)).until(() -> completion.run(5).downloads() == 1);
        assertThat(queued()).doesNotContain(id);
        assertThat(issuances(issuer))
                .singleElement()
                .satisfies(i -> assertThat(i.downloaded()).isTrue());
        assertThat(allDiscovered(issuer)).hasSize(1);
    }

    @Test
    void aSerialReuseHiddenBehindABackfilledPairIsEmittedWhenItsCertificatesAreDownloaded() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        // two different certificates under one serial: from the rows alone they look like a pair
        long first = serve(serial, false, "first.reuse.completion.test");
        long second = serve(serial, false, "second.reuse.completion.test");
        send(observed(first, issuer, serial, true, "first.reuse.completion.test"));
        send(observed(second, issuer, serial, true, "second.reuse.completion.test"));
        awaitQueued(first, second);
        assertThat(allDiscovered(issuer)).hasSize(1);
        assertThat(issuances(issuer)).hasSize(1);

        assertThat(completion.run(10).downloads()).isEqualTo(2);

        List<CertificateDiscovered> events = allDiscovered(issuer);
        assertThat(events).hasSize(2);
        assertThat(events.get(1)).satisfies(e -> {
            assertThat(e.anomaly().kind()).isEqualTo(Anomaly.Kind.SERIAL_REUSE);
            assertThat(e.anomaly().detail()).contains("backfilled crt.sh id " + second);
            assertThat(e.crtShIds()).containsExactly(second);
            assertThat(e.backfill()).isTrue();
            assertThat(e.derBase64()).isNotNull();
            assertThat(e.identity().dnsNames()).containsExactly("second.reuse.completion.test");
            assertThat(e.matches()).extracting(WatchMatch::domain).containsExactly("test");
        });
        assertThat(issuances(issuer))
                .hasSize(2)
                .allSatisfy(i -> assertThat(i.tbs()).hasSize(64));
        assertThat(issuances(issuer)).extracting(Issuance::anomaly).containsExactly(null, "SERIAL_REUSE");
        assertThat(RestAssured.get("/q/metrics").asString())
                .contains("ctwatch_dedup_backfill_completed_total{outcome=\"serial_reuse\"");
    }

    @Test
    void aDownloadedRowOfABackfilledIssuanceCompletesItAndTheJobConfirmsTheRest() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long pre = serve(serial, true, "hot.completion.test");
        long fin = serve(serial, false, "hot.completion.test");
        send(observed(pre, issuer, serial, true, "hot.completion.test"));
        awaitQueued(pre);
        // the final certificate arrives in a later, ordinary poll: downloaded on the hot path
        send(observed(fin, issuer, serial, false, "hot.completion.test"));
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(crtShIds(issuer)).containsExactlyInAnyOrder(pre, fin));
        assertThat(issuances(issuer)).singleElement().satisfies(i -> {
            assertThat(i.downloaded()).isTrue();
            assertThat(i.precertificate()).isFalse();
        });
        assertThat(queued()).contains(pre).doesNotContain(fin);

        completion.run(10);
        assertThat(downloads(pre)).isEqualTo(1);
        assertThat(issuances(issuer))
                .singleElement()
                .satisfies(i -> assertThat(i.anomaly()).isNull());
        assertThat(queued()).doesNotContain(pre);
        assertThat(allDiscovered(issuer))
                .singleElement()
                .satisfies(e -> assertThat(e.backfill()).isTrue());
    }

    @Test
    void aBackfillRowCrtShDoesNotKnowGoesToTheDeadLetterTopicAndStaysAsRecorded() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long id = IDS.incrementAndGet(); // no PEM served: crt.sh answers 404
        send(observed(id, issuer, serial, true, "gone.completion.test"));
        awaitQueued(id);

        BackfillCompletion.Run run = completion.run(5);

        assertThat(run.failed()).isEqualTo(1);
        assertThat(queued()).doesNotContain(id);
        assertThat(issuances(issuer))
                .singleElement()
                .satisfies(i -> assertThat(i.downloaded()).isFalse());
        String key = issuer + ":" + serial.toString(16);
        try (KafkaConsumer<String, byte[]> consumer = consumer(new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(DedupTestResources.DLQ));
            ConsumerRecord<String, byte[]> dead = await().atMost(Duration.ofSeconds(30))
                    .until(
                            () -> {
                                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                                    if (key.equals(r.key())) {
                                        return r;
                                    }
                                }
                                return null;
                            },
                            r -> r != null);
            assertThat(new String(
                            dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                    .contains("crt.sh knows no certificate with id " + id);
        }
        assertThat(RestAssured.get("/q/metrics").asString())
                .contains("ctwatch_dedup_backfill_failed_total{reason=\"unusable\"");
    }

    // --- helpers ---------------------------------------------------------------------------------

    record Issuance(
            String tbs,
            String fingerprint,
            String issuerDn,
            String subjectDn,
            boolean precertificate,
            boolean downloaded,
            String anomaly) {}

    private static long issuer() {
        return ThreadLocalRandom.current().nextLong(1_000_000, Integer.MAX_VALUE);
    }

    private static BigInteger serial() {
        return new BigInteger(120, ThreadLocalRandom.current()).setBit(100);
    }

    private long serve(BigInteger serial, boolean precertificate, String... names) throws Exception {
        long id = IDS.incrementAndGet();
        byte[] der = ca.issue(serial, List.of(names), precertificate, notBefore);
        DedupTestResources.PEMS.put(
                id,
                "-----BEGIN CERTIFICATE-----\n"
                        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                        + "\n-----END CERTIFICATE-----\n");
        return id;
    }

    private CertificateObserved observed(long id, long issuer, BigInteger serial, boolean backfill, String... names) {
        CrtShRow row = new CrtShRow(
                id,
                issuer,
                "C=ZZ, O=ctwatch test, CN=Dedup Test CA",
                names[0],
                String.join("\n", names),
                CRTSH.format(notBefore),
                CRTSH.format(notBefore),
                CRTSH.format(notBefore.plus(90, ChronoUnit.DAYS)),
                serial.toString(16),
                names.length);
        return new CertificateObserved(row, List.of(new WatchMatch("test", true, Map.of())), Instant.now(), backfill);
    }

    private void send(CertificateObserved observed) throws Exception {
        byte[] value = new EventSerializer<CertificateObserved>().serialize("t", observed);
        producer.send(new ProducerRecord<>(
                        DedupTestResources.OBSERVED,
                        observed.row().issuanceKey().toString(),
                        value))
                .get();
    }

    private void awaitQueued(Long... ids) {
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(queued()).contains(ids));
    }

    private static int downloads(Long... ids) {
        return Stream.of(ids)
                .map(DedupTestResources.DOWNLOADS::get)
                .mapToInt(n -> n == null ? 0 : n.get())
                .sum();
    }

    /** Every discovered event of this issuer up to the topic's current end, in offset order per partition. */
    private List<CertificateDiscovered> allDiscovered(long issuer) {
        try (KafkaConsumer<String, CertificateDiscovered> consumer = consumer(new EventDeserializer.Discovered())) {
            List<TopicPartition> partitions = consumer.partitionsFor(DedupTestResources.DISCOVERED).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<CertificateDiscovered> events = new ArrayList<>();
            AtomicInteger polls = new AtomicInteger();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertThat(polls.incrementAndGet())
                        .as("polls to the end of the topic")
                        .isLessThan(300);
                for (ConsumerRecord<String, CertificateDiscovered> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key().startsWith(issuer + ":")) {
                        events.add(r.value());
                    }
                }
            }
            return events;
        }
    }

    private <V> KafkaConsumer<String, V> consumer(Deserializer<V> values) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, DedupTestResources.bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "backfill-test-reader-" + IDS.incrementAndGet());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(p, new StringDeserializer(), values);
    }

    @SuppressWarnings("unchecked")
    private List<Issuance> issuances(long issuer) {
        return QuarkusTransaction.requiringNew()
                .call(() -> ((List<Object[]>) em.createNativeQuery("""
                                        select tbs_sha256, sha256_fingerprint, issuer_dn, subject_dn, precertificate,
                                               downloaded, anomaly
                                        from dedup.issuance where issuer_ca_id = ?1 order by id
                                        """)
                                .setParameter(1, issuer)
                                .getResultList())
                        .stream()
                                .map(r -> new Issuance(
                                        (String) r[0],
                                        (String) r[1],
                                        (String) r[2],
                                        (String) r[3],
                                        (Boolean) r[4],
                                        (Boolean) r[5],
                                        (String) r[6]))
                                .toList());
    }

    @SuppressWarnings("unchecked")
    private List<Long> crtShIds(long issuer) {
        return QuarkusTransaction.requiringNew()
                .call(() -> ((List<Number>) em.createNativeQuery(
                                        "select e.crtsh_id from dedup.crtsh_entry e join dedup.issuance i on i.id = e.issuance_id"
                                                + " where i.issuer_ca_id = ?1")
                                .setParameter(1, issuer)
                                .getResultList())
                        .stream().map(Number::longValue).toList());
    }

    @SuppressWarnings("unchecked")
    private List<Long> queued() {
        return QuarkusTransaction.requiringNew()
                .call(() -> ((List<Number>) em.createNativeQuery("select crtsh_id from dedup.backfill_download")
                                .getResultList())
                        .stream().map(Number::longValue).toList());
    }

    private String lastError(long id) {
        return QuarkusTransaction.requiringNew()
                .call(() -> (String)
                        em.createNativeQuery("select last_error from dedup.backfill_download where crtsh_id = ?1")
                                .setParameter(1, id)
                                .getSingleResult());
    }
}
