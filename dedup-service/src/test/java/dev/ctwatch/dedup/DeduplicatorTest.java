package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.dedup.certificate.ParsedCertificate;
import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.EventDeserializer;
import dev.ctwatch.events.EventSerializer;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The dedup decisions end to end: real Kafka, real PostgreSQL, a crt.sh download stand-in. */
@QuarkusTest
@WithTestResource(DedupTestResources.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeduplicatorTest {

    @Inject
    EntityManager em;

    @Inject
    IssuanceStore store;

    @Inject
    IssuanceRecorder recorder;

    @Inject
    io.micrometer.core.instrument.MeterRegistry meters;

    private CrtShRows rows;

    @BeforeAll
    void setUp() throws Exception {
        rows = new CrtShRows();
    }

    @AfterAll
    void tearDown() {
        rows.close();
    }

    @Test
    void precertificateThenCertificateIsOneIssuance() throws Exception {
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long pre = rows.serve(serial, true, "www.pair.test");
        long fin = rows.serve(serial, false, "www.pair.test");
        rows.send(rows.observed(pre, issuer, serial, false, "www.pair.test"));
        rows.send(rows.observed(fin, issuer, serial, false, "www.pair.test"));

        List<CertificateDiscovered> events = discovered(issuer, 1);
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.crtShIds()).containsExactly(pre);
            assertThat(e.identity().precertificate()).isTrue();
            assertThat(e.identity().dnsNames()).containsExactly("www.pair.test");
            assertThat(e.derBase64()).isNotNull();
            assertThat(e.anomaly()).isNull();
        });
        await().untilAsserted(() -> assertThat(CrtShRows.crtShIds(em, issuer)).containsExactlyInAnyOrder(pre, fin));
        assertNoMoreEvents(issuer, 1);
    }

    @Test
    void certificateThenPrecertificateIsOneIssuanceAndSerialSpellingsAgree() throws Exception {
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial().setBit(127);
        long fin = rows.serve(serial, false, "rev.pair.test");
        long pre = rows.serve(serial, true, "rev.pair.test");
        // crt.sh's 00-prefixed lowercase for one twin, upper case for the other
        rows.send(rows.observed(fin, issuer, "00" + serial.toString(16), false, "rev.pair.test"));
        rows.send(rows.observed(pre, issuer, serial.toString(16).toUpperCase(), false, "rev.pair.test"));

        assertThat(discovered(issuer, 1))
                .singleElement()
                .satisfies(e -> assertThat(e.key().toString()).isEqualTo(issuer + ":" + serial.toString(16)));
        await().untilAsserted(() -> assertThat(CrtShRows.crtShIds(em, issuer)).containsExactlyInAnyOrder(pre, fin));
        assertNoMoreEvents(issuer, 1);
    }

    @Test
    void aRepeatedIdIsNeitherDownloadedNorEmittedAgain() throws Exception {
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long id = rows.serve(serial, false, "repeat.test");
        rows.send(rows.observed(id, issuer, serial, false, "repeat.test"));
        discovered(issuer, 1);
        rows.send(rows.observed(id, issuer, serial, false, "repeat.test"));
        rows.send(rows.observed(id, issuer, serial, false, "repeat.test"));
        assertNoMoreEvents(issuer, 1);
        assertThat(DedupTestResources.DOWNLOADS.get(id).get()).isEqualTo(1);
    }

    @Test
    void aReusedSerialIsEmittedWithAnAnomaly() throws Exception {
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long first = rows.serve(serial, false, "first.reuse.test");
        long second = rows.serve(serial, false, "second.reuse.test");
        rows.send(rows.observed(first, issuer, serial, false, "first.reuse.test"));
        discovered(issuer, 1);
        rows.send(rows.observed(second, issuer, serial, false, "second.reuse.test"));
        List<CertificateDiscovered> events = discovered(issuer, 2);
        assertThat(events.get(1).anomaly().kind()).isEqualTo(Anomaly.Kind.SERIAL_REUSE);
        assertThat(events.get(1).identity().dnsNames()).containsExactly("second.reuse.test");
    }

    @Test
    void crtShServingAnotherCertificateIsEmittedWithAnAnomaly() throws Exception {
        long issuer = CrtShRows.issuer();
        BigInteger rowSerial = CrtShRows.serial();
        long id = rows.serve(CrtShRows.serial(), false, "swapped.test"); // the PEM has another serial than the row
        rows.send(rows.observed(id, issuer, rowSerial, false, "swapped.test"));
        assertThat(discovered(issuer, 1)).singleElement().satisfies(e -> {
            assertThat(e.anomaly().kind()).isEqualTo(Anomaly.Kind.ROW_MISMATCH);
            assertThat(e.anomaly().detail()).contains("row serial " + rowSerial.toString(16));
        });
    }

    @Test
    void backfillRowsAreRecordedWithoutDownloads() throws Exception {
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long pre = CrtShRows.nextId();
        long fin = CrtShRows.nextId();
        rows.send(rows.observed(pre, issuer, serial, true, "backfill.test"));
        rows.send(rows.observed(fin, issuer, serial, true, "backfill.test"));
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long id = rows.serve(serial, false, "later.test");
        DedupTestResources.FAILURES.put(id, 503);
        rows.send(rows.observed(id, issuer, serial, false, "later.test"));
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
        String key = "dlq-" + CrtShRows.nextId();
        rows.send(new ProducerRecord<>(DedupTestResources.OBSERVED, key, "{not json".getBytes()));
        try (KafkaConsumer<String, byte[]> consumer = CrtShRows.consumer(new ByteArrayDeserializer())) {
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long id = rows.serve(serial, false, "api.lookup.test", "www.api.lookup.test");
        rows.send(rows.observed(id, issuer, serial, false, "api.lookup.test", "www.api.lookup.test"));
        discovered(issuer, 1);
        String key = issuer + ":" + serial.toString(16);
        // the event is acknowledged before the transaction that stores the issuance commits
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> RestAssured.given()
                        .queryParam("name", "lookup.test")
                        .get("/api/certificates")
                        .then()
                        .statusCode(200)
                        .body("issuances.key", org.hamcrest.Matchers.hasItem(key)));
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
        long issuer = CrtShRows.issuer();
        List<Long> ids = new ArrayList<>();
        List<CertificateObserved> batch = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            BigInteger serial = CrtShRows.serial();
            long id = rows.serve(serial, false, "slow" + i + ".budget.test");
            DedupTestResources.DELAYS.put(id, 900L);
            ids.add(id);
            batch.add(rows.observed(id, issuer, serial, false, "slow" + i + ".budget.test"));
        }
        double deferredBefore = counter("ctwatch.dedup.downloads.deferred");
        // one partition, sent together: one batch, which would take 4.5 s of downloads against a 2 s budget
        rows.sendTogether(batch.stream()
                .map(row -> new ProducerRecord<>(
                        DedupTestResources.OBSERVED,
                        0,
                        "budget",
                        new EventSerializer<CertificateObserved>().serialize("t", row)))
                .toList());

        List<CertificateDiscovered> events = discovered(issuer, 5);
        assertThat(events).extracting(e -> e.crtShIds().get(0)).containsExactlyInAnyOrderElementsOf(ids);
        // counted by the consumer after it handed the row over, so wait for it rather than race it
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(counter("ctwatch.dedup.downloads.deferred") - deferredBefore)
                        .isGreaterThanOrEqualTo(1));
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        CertificateIdentity identity = new CertificateIdentity(
                serial.toString(16),
                "CN=Dedup Test CA",
                "CN=race.test",
                List.of("race.test"),
                List.of(),
                rows.notBefore,
                rows.notBefore.plus(90, ChronoUnit.DAYS),
                false,
                "ef".repeat(32),
                "01".repeat(32),
                null);
        Race<IssuanceStore.Stored, IssuanceStore.Stored> race = race(
                () -> store.storeIssuance(issuer, "race CA", identity, null, true),
                () -> QuarkusTransaction.requiringNew()
                        .call(() -> store.storeIssuance(issuer, "race CA", identity, null, true)));
        assertThat(race.first().created()).isTrue();
        assertThat(race.second().created()).isFalse();
        assertThat(race.second().id()).isEqualTo(race.first().id());
    }

    @Test
    void twoCertificatesOfOneSerialDecidedAtOnceStillRaiseTheSerialReuse() throws Exception {
        // two instances downloading two certificates of one serial during a rebalance: before the first
        // is stored there is no row to lock, so the second must wait on the serial itself
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long firstId = rows.serve(serial, false, "first.race.test");
        long secondId = rows.serve(serial, false, "second.race.test");
        ParsedCertificate first = ParsedCertificate.fromPem(DedupTestResources.PEMS.get(firstId));
        ParsedCertificate second = ParsedCertificate.fromPem(DedupTestResources.PEMS.get(secondId));
        Race<Void, IssuanceDecision.Kind> race = race(
                () -> {
                    // the other instance, between its decision and its commit
                    store.lockSerial(issuer, serial.toString(16));
                    store.storeIssuance(issuer, "race CA", first.identity(), null, true);
                    return null;
                },
                () -> recorder.recordDownloaded(
                        rows.observed(secondId, issuer, serial, false, "second.race.test"), second));
        assertThat(race.second()).isEqualTo(IssuanceDecision.Kind.SERIAL_REUSE);
        CertificateDiscovered reuse = discovered(issuer, 1).get(0);
        assertThat(reuse.anomaly().kind()).isEqualTo(Anomaly.Kind.SERIAL_REUSE);
        assertThat(reuse.identity().dnsNames()).containsExactly("second.race.test");
    }

    // --- helpers ---------------------------------------------------------------------------------

    /** What each of two racing transactions returned. */
    private record Race<A, B>(A first, B second) {}

    /**
     * Two instances racing: {@code first} runs in a transaction held open after it (an instance
     * between its decision and its commit), then {@code second} on another thread, which must wait
     * for that commit; then the first commits and both results are returned.
     */
    private static <A, B> Race<A, B> race(Callable<A> first, Callable<B> second) throws Exception {
        CountDownLatch firstRan = new CountDownLatch(1);
        CountDownLatch firstMayCommit = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<A> a = pool.submit(() -> QuarkusTransaction.requiringNew().call(() -> {
                A result = first.call();
                firstRan.countDown();
                firstMayCommit.await();
                return result;
            }));
            if (!firstRan.await(30, TimeUnit.SECONDS)) {
                a.get(); // its failure, if it failed
                throw new AssertionError("the first transaction did not get through in 30 s");
            }
            Future<B> b = pool.submit(second);
            Thread.sleep(300); // time for the second to reach the lock and wait there
            assertThat(b.isDone())
                    .as("the second waits for the first to commit")
                    .isFalse();
            firstMayCommit.countDown();
            return new Race<>(a.get(), b.get());
        } finally {
            pool.shutdownNow();
        }
    }

    private double counter(String name) {
        return meters.find(name).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count)
                .sum();
    }

    /** Waits for {@code n} discovered events of this issuer, in offset order. */
    private List<CertificateDiscovered> discovered(long issuer, int n) {
        try (KafkaConsumer<String, CertificateDiscovered> consumer =
                CrtShRows.consumer(new EventDeserializer.Discovered())) {
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

    private static <V> ConsumerRecord<String, V> find(KafkaConsumer<String, V> consumer, String key) {
        for (ConsumerRecord<String, V> r : consumer.poll(Duration.ofMillis(200))) {
            if (key.equals(r.key())) {
                return r;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private List<Long> pendingIds() {
        return QuarkusTransaction.requiringNew()
                .call(() -> ((List<Number>) em.createNativeQuery("select crtsh_id from dedup.pending_download")
                                .getResultList())
                        .stream().map(Number::longValue).toList());
    }
}
