package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.dedup.certificate.TestCa;
import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
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
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The dedup decisions end to end: real Kafka, real PostgreSQL, a crt.sh download stand-in. */
@QuarkusTest
@WithTestResource(DedupTestResources.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeduplicatorTest {
    private static final DateTimeFormatter CRTSH =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final AtomicLong IDS =
            new AtomicLong(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));

    @Inject
    EntityManager em;

    @Inject
    IssuanceStore store;

    @Inject
    io.micrometer.core.instrument.MeterRegistry meters;

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

    @Test
    void precertificateThenCertificateIsOneIssuance() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long pre = serve(serial, true, "www.pair.test");
        long fin = serve(serial, false, "www.pair.test");
        send(observed(pre, issuer, serial, false, "www.pair.test"));
        send(observed(fin, issuer, serial, false, "www.pair.test"));

        List<CertificateDiscovered> events = discovered(issuer, 1);
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.crtShIds()).containsExactly(pre);
            assertThat(e.identity().precertificate()).isTrue();
            assertThat(e.identity().dnsNames()).containsExactly("www.pair.test");
            assertThat(e.derBase64()).isNotNull();
            assertThat(e.anomaly()).isNull();
        });
        await().untilAsserted(() -> assertThat(crtShIds(issuer)).containsExactlyInAnyOrder(pre, fin));
        assertNoMoreEvents(issuer, 1);
    }

    @Test
    void certificateThenPrecertificateIsOneIssuanceAndSerialSpellingsAgree() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial().setBit(127);
        long fin = serve(serial, false, "rev.pair.test");
        long pre = serve(serial, true, "rev.pair.test");
        // crt.sh's 00-prefixed lowercase for one twin, upper case for the other
        send(observed(fin, issuer, "00" + serial.toString(16), false, "rev.pair.test"));
        send(observed(pre, issuer, serial.toString(16).toUpperCase(), false, "rev.pair.test"));

        assertThat(discovered(issuer, 1))
                .singleElement()
                .satisfies(e -> assertThat(e.key().toString()).isEqualTo(issuer + ":" + serial.toString(16)));
        await().untilAsserted(() -> assertThat(crtShIds(issuer)).containsExactlyInAnyOrder(pre, fin));
        assertNoMoreEvents(issuer, 1);
    }

    @Test
    void aRepeatedIdIsNeitherDownloadedNorEmittedAgain() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long id = serve(serial, false, "repeat.test");
        send(observed(id, issuer, serial, false, "repeat.test"));
        discovered(issuer, 1);
        send(observed(id, issuer, serial, false, "repeat.test"));
        send(observed(id, issuer, serial, false, "repeat.test"));
        assertNoMoreEvents(issuer, 1);
        assertThat(DedupTestResources.DOWNLOADS.get(id).get()).isEqualTo(1);
    }

    @Test
    void aReusedSerialIsEmittedWithAnAnomaly() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long first = serve(serial, false, "first.reuse.test");
        long second = serve(serial, false, "second.reuse.test");
        send(observed(first, issuer, serial, false, "first.reuse.test"));
        discovered(issuer, 1);
        send(observed(second, issuer, serial, false, "second.reuse.test"));
        List<CertificateDiscovered> events = discovered(issuer, 2);
        assertThat(events.get(1).anomaly().kind()).isEqualTo(Anomaly.Kind.SERIAL_REUSE);
        assertThat(events.get(1).identity().dnsNames()).containsExactly("second.reuse.test");
    }

    @Test
    void crtShServingAnotherCertificateIsEmittedWithAnAnomaly() throws Exception {
        long issuer = issuer();
        BigInteger rowSerial = serial();
        long id = serve(serial(), false, "swapped.test"); // the PEM has another serial than the row
        send(observed(id, issuer, rowSerial, false, "swapped.test"));
        assertThat(discovered(issuer, 1)).singleElement().satisfies(e -> {
            assertThat(e.anomaly().kind()).isEqualTo(Anomaly.Kind.ROW_MISMATCH);
            assertThat(e.anomaly().detail()).contains("row serial " + rowSerial.toString(16));
        });
    }

    @Test
    void backfillRowsAreRecordedWithoutDownloads() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long pre = IDS.incrementAndGet();
        long fin = IDS.incrementAndGet();
        send(observed(pre, issuer, serial, true, "backfill.test"));
        send(observed(fin, issuer, serial, true, "backfill.test"));
        assertThat(discovered(issuer, 1)).singleElement().satisfies(e -> {
            assertThat(e.backfill()).isTrue();
            assertThat(e.derBase64()).isNull();
            assertThat(e.identity().dnsNames()).containsExactly("backfill.test");
            assertThat(e.identity().serialHex()).isEqualTo(serial.toString(16));
        });
        assertThat(DedupTestResources.DOWNLOADS).doesNotContainKeys(pre, fin);
        assertNoMoreEvents(issuer, 1);
    }

    @Test
    void aCertificateCrtShCannotGiveNowIsParkedAndRetriedLater() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long id = serve(serial, false, "later.test");
        DedupTestResources.FAILURES.put(id, 503);
        send(observed(id, issuer, serial, false, "later.test"));
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(pendingIds()).contains(id));
        assertThat(RestAssured.get("/q/metrics").asString()).contains("ctwatch_dedup_pending_downloads");
        DedupTestResources.FAILURES.remove(id);
        assertThat(discovered(issuer, 1))
                .singleElement()
                .satisfies(e -> assertThat(e.crtShIds()).containsExactly(id));
        await().untilAsserted(() -> assertThat(pendingIds()).doesNotContain(id));
    }

    @Test
    void unreadableRecordsGoToTheDeadLetterTopicWithTheirReason() throws Exception {
        String key = "dlq-" + IDS.incrementAndGet();
        producer.send(new ProducerRecord<>(DedupTestResources.OBSERVED, key, "{not json".getBytes()))
                .get();
        try (KafkaConsumer<String, byte[]> consumer = consumer(new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(DedupTestResources.DLQ));
            ConsumerRecord<String, byte[]> dead =
                    await().atMost(Duration.ofSeconds(30)).until(() -> find(consumer, key), r -> r != null);
            assertThat(new String(dead.value(), StandardCharsets.UTF_8)).isEqualTo("{not json");
            assertThat(new String(
                            dead.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8))
                    .contains("not a valid CertificateObserved");
        }
    }

    @Test
    void otherTeamsFindIssuancesByNameAndKey() throws Exception {
        long issuer = issuer();
        BigInteger serial = serial();
        long id = serve(serial, false, "api.lookup.test", "www.api.lookup.test");
        send(observed(id, issuer, serial, false, "api.lookup.test", "www.api.lookup.test"));
        discovered(issuer, 1);
        String key = issuer + ":" + serial.toString(16);
        RestAssured.given()
                .queryParam("name", "lookup.test")
                .get("/api/certificates")
                .then()
                .statusCode(200)
                .body("issuances.key", org.hamcrest.Matchers.hasItem(key));
        RestAssured.given()
                .queryParam("name", "ookup.test")
                .get("/api/certificates")
                .then()
                .statusCode(200)
                .body("issuances.key", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(key)));
        RestAssured.get("/api/certificates/" + key)
                .then()
                .statusCode(200)
                .body("[0].crtShIds[0]", org.hamcrest.Matchers.equalTo(id))
                .body("[0].names", org.hamcrest.Matchers.hasItem("www.api.lookup.test"));
        RestAssured.get("/api/certificates/not-a-key").then().statusCode(400);
        RestAssured.get("/api/certificates").then().statusCode(400);
    }

    @Test
    void aBatchThatDownloadsLongerThanItsBudgetHandsTheRestToThePendingJob() throws Exception {
        long issuer = issuer();
        List<Long> ids = new ArrayList<>();
        List<CertificateObserved> rows = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            BigInteger serial = serial();
            long id = serve(serial, false, "slow" + i + ".budget.test");
            DedupTestResources.DELAYS.put(id, 900L);
            ids.add(id);
            rows.add(observed(id, issuer, serial, false, "slow" + i + ".budget.test"));
        }
        double deferredBefore = counter("ctwatch.dedup.downloads.deferred");
        // one partition, sent together: one batch, which would take 4.5 s of downloads against a 2 s budget
        for (CertificateObserved row : rows) {
            byte[] value = new EventSerializer<CertificateObserved>().serialize("t", row);
            producer.send(new ProducerRecord<>(DedupTestResources.OBSERVED, 0, "budget", value));
        }
        producer.flush();

        List<CertificateDiscovered> events = discovered(issuer, 5);
        assertThat(events).extracting(e -> e.crtShIds().get(0)).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(counter("ctwatch.dedup.downloads.deferred") - deferredBefore).isGreaterThanOrEqualTo(1);
        // each downloaded once, by the batch or by the pending job, and nothing left waiting
        assertThat(ids)
                .allSatisfy(id ->
                        assertThat(DedupTestResources.DOWNLOADS.get(id).get()).isEqualTo(1));
        await().untilAsserted(() -> assertThat(pendingIds()).doesNotContainAnyElementsOf(ids));
        assertNoMoreEvents(issuer, 5);
    }

    @Test
    void ofTwoTransactionsStoringOneIssuanceOnlyOneCreatesIt() throws Exception {
        // two instances recording the twins of one issuance during a rebalance: the second blocks on
        // the unique constraint until the first commits, then learns it did not create the row
        long issuer = issuer();
        BigInteger serial = serial();
        CertificateIdentity identity = new CertificateIdentity(
                serial.toString(16),
                "CN=Dedup Test CA",
                "CN=race.test",
                List.of("race.test"),
                List.of(),
                notBefore,
                notBefore.plus(90, ChronoUnit.DAYS),
                false,
                "ef".repeat(32),
                "01".repeat(32),
                null);
        java.util.concurrent.CountDownLatch firstStored = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch firstMayCommit = new java.util.concurrent.CountDownLatch(1);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            var first = pool.submit(() -> QuarkusTransaction.requiringNew().call(() -> {
                IssuanceStore.Stored stored = store.storeIssuance(issuer, "race CA", identity, null, true);
                firstStored.countDown();
                firstMayCommit.await();
                return stored;
            }));
            firstStored.await();
            var second = pool.submit(() -> QuarkusTransaction.requiringNew()
                    .call(() -> store.storeIssuance(issuer, "race CA", identity, null, true)));
            Thread.sleep(300); // let the second one reach the unique index and wait there
            assertThat(second.isDone()).isFalse();
            firstMayCommit.countDown();
            IssuanceStore.Stored a = first.get();
            IssuanceStore.Stored b = second.get();
            assertThat(a.created()).isTrue();
            assertThat(b.created()).isFalse();
            assertThat(b.id()).isEqualTo(a.id());
        } finally {
            pool.shutdownNow();
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    private double counter(String name) {
        return meters.find(name).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count)
                .sum();
    }

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
        return observed(id, issuer, serial.toString(16), backfill, names);
    }

    private CertificateObserved observed(long id, long issuer, String serial, boolean backfill, String... names) {
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

    private void send(CertificateObserved observed) throws Exception {
        byte[] value = new EventSerializer<CertificateObserved>().serialize("t", observed);
        producer.send(new ProducerRecord<>(
                        DedupTestResources.OBSERVED,
                        observed.row().issuanceKey().toString(),
                        value))
                .get();
    }

    /** Waits for {@code n} discovered events of this issuer, in offset order. */
    private List<CertificateDiscovered> discovered(long issuer, int n) {
        try (KafkaConsumer<String, CertificateDiscovered> consumer = consumer(new EventDeserializer.Discovered())) {
            consumer.subscribe(List.of(DedupTestResources.DISCOVERED));
            List<CertificateDiscovered> events = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, CertificateDiscovered> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key().startsWith(issuer + ":")) {
                        events.add(r.value());
                    }
                }
                return events.size() >= n;
            });
            return events;
        }
    }

    private void assertNoMoreEvents(long issuer, int expected) throws InterruptedException {
        Thread.sleep(1500);
        assertThat(discovered(issuer, expected)).hasSize(expected);
    }

    private <V> KafkaConsumer<String, V> consumer(org.apache.kafka.common.serialization.Deserializer<V> values) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, DedupTestResources.bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "dedup-test-reader-" + IDS.incrementAndGet());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new StringDeserializer(), values);
    }

    private static <V> ConsumerRecord<String, V> find(KafkaConsumer<String, V> consumer, String key) {
        for (ConsumerRecord<String, V> r : consumer.poll(Duration.ofMillis(200))) {
            if (key.equals(r.key())) {
                return r;
            }
        }
        return null;
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
    private List<Long> pendingIds() {
        return QuarkusTransaction.requiringNew()
                .call(() -> ((List<Number>) em.createNativeQuery("select crtsh_id from dedup.pending_download")
                                .getResultList())
                        .stream().map(Number::longValue).toList());
    }
}
