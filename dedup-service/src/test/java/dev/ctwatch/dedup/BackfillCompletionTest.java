package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.EventDeserializer;
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
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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

    @Inject
    EntityManager em;

    @Inject
    BackfillCompletion completion;

    private CrtShRows rows;

    @BeforeAll
    void setUp() throws Exception {
        rows = new CrtShRows();
    }

    @AfterAll
    void tearDown() {
        rows.close();
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long pre = rows.serve(serial, true, "pair.completion.test");
        long fin = rows.serve(serial, false, "pair.completion.test");
        rows.send(rows.observed(pre, issuer, serial, true, "pair.completion.test"));
        rows.send(rows.observed(fin, issuer, serial, true, "pair.completion.test"));
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
        assertThat(CrtShRows.crtShIds(em, issuer)).containsExactlyInAnyOrder(pre, fin);
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
        long issuer = CrtShRows.issuer();
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            BigInteger serial = CrtShRows.serial();
            long id = rows.serve(serial, false, "budget" + i + ".completion.test");
            rows.send(rows.observed(id, issuer, serial, true, "budget" + i + ".completion.test"));
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long id = rows.serve(serial, false, "later.completion.test");
        rows.send(rows.observed(id, issuer, serial, true, "later.completion.test"));
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        // two different certificates under one serial: from the rows alone they look like a pair
        long first = rows.serve(serial, false, "first.reuse.completion.test");
        long second = rows.serve(serial, false, "second.reuse.completion.test");
        rows.send(rows.observed(first, issuer, serial, true, "first.reuse.completion.test"));
        rows.send(rows.observed(second, issuer, serial, true, "second.reuse.completion.test"));
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long pre = rows.serve(serial, true, "hot.completion.test");
        long fin = rows.serve(serial, false, "hot.completion.test");
        rows.send(rows.observed(pre, issuer, serial, true, "hot.completion.test"));
        awaitQueued(pre);
        // the final certificate arrives in a later, ordinary poll: downloaded on the hot path
        rows.send(rows.observed(fin, issuer, serial, false, "hot.completion.test"));
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(CrtShRows.crtShIds(em, issuer)).containsExactlyInAnyOrder(pre, fin));
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
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        long id = CrtShRows.nextId(); // no PEM served: crt.sh answers 404
        rows.send(rows.observed(id, issuer, serial, true, "gone.completion.test"));
        awaitQueued(id);

        BackfillCompletion.Run run = completion.run(5);

        assertThat(run.failed()).isEqualTo(1);
        assertThat(queued()).doesNotContain(id);
        assertThat(issuances(issuer))
                .singleElement()
                .satisfies(i -> assertThat(i.downloaded()).isFalse());
        String key = issuer + ":" + serial.toString(16);
        try (KafkaConsumer<String, byte[]> consumer = CrtShRows.consumer(new ByteArrayDeserializer())) {
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
        return CrtShRows.readToEnd(DedupTestResources.DISCOVERED, new EventDeserializer.Discovered()).stream()
                .filter(r -> r.key().startsWith(issuer + ":"))
                .map(ConsumerRecord::value)
                .toList();
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
