package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.events.WatchMatch;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * PostgreSQL failing at commit, after the row's event was acknowledged by the broker: the realistic
 * crash between emit and commit, without killing anything. A deferred constraint trigger raises a
 * serialization failure (SQLSTATE 40001) when the transaction that claims one crt.sh id commits,
 * the first {@value #FAILURES} times; a sequence counts the attempts because it is not rolled back.
 */
@QuarkusTest
@WithTestResource(DedupTestResources.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TransientCommitFailureTest {
    private static final int FAILURES = 2;
    private static final DateTimeFormatter CRTSH =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

    @Inject
    DataSource db;

    @Inject
    PendingDownloads pending;

    private KafkaProducer<String, byte[]> producer;
    private CrtShRows served;

    @BeforeAll
    void setUp() throws Exception {
        served = new CrtShRows();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, DedupTestResources.bootstrap);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    void tearDown() {
        served.close();
        producer.close();
    }

    @Test
    void aTransientFailureAtCommitIsRetriedAndDeadLettersNothing() throws Exception {
        // five issuances in one batch of one partition; the third one's commit fails twice
        List<CertificateObserved> rows = rows(5);
        long failing = rows.get(2).row().id();
        Set<String> keys =
                rows.stream().map(o -> o.row().issuanceKey().toString()).collect(Collectors.toCollection(TreeSet::new));
        double retriesBefore = metric("ctwatch_dedup_transaction_retries_total");

        long commitAttempts;
        failCommitsOf(failing);
        try {
            sendToOnePartition(rows);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        Set<String> dead = keysOn(DedupTestResources.DLQ);
                        dead.retainAll(keys);
                        return !dead.isEmpty() || linked(rows) == rows.size();
                    });
            commitAttempts = query("select nextval('dedup.test_commit_attempts')") - 1;
        } finally {
            stopFailing();
        }

        Set<String> dead = keysOn(DedupTestResources.DLQ);
        dead.retainAll(keys);
        assertThat(dead).as("rows on the dead-letter topic").isEmpty();
        assertThat(commitAttempts)
                .as("commits of crt.sh id %d: %d failed, then one succeeded", failing, FAILURES)
                .isEqualTo(FAILURES + 1);
        assertThat(linked(rows)).as("rows stored and linked to their issuance").isEqualTo(rows.size());
        long issuer = rows.get(0).row().issuerCaId();
        assertThat(query("select count(*) from dedup.issuance where issuer_ca_id = " + issuer))
                .isEqualTo(rows.size());
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(keysOn(DedupTestResources.DISCOVERED))
                        .as("every issuance emitted at least once")
                        .containsAll(keys));
        assertThat(metric("ctwatch_dedup_transaction_retries_total") - retriesBefore)
                .as("one retry per failed commit")
                .isEqualTo(FAILURES);
    }

    @Test
    void aBackfillRowThatCannotBeStoredIsDeadLetteredAloneAndItsChunkIsStored() throws Exception {
        // backfill rows are recorded in chunks of one transaction: one row failing for good (a check
        // violation, SQLSTATE 23514) must not take the others of its chunk down with it
        List<CertificateObserved> rows = rows(5);
        CertificateObserved bad = rows.get(3);
        Set<String> keys =
                rows.stream().map(o -> o.row().issuanceKey().toString()).collect(Collectors.toCollection(TreeSet::new));
        failCommitsOf(bad.row().id(), Long.MAX_VALUE, "23514");
        try {
            sendToOnePartition(rows);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> keysOn(DedupTestResources.DLQ)
                            .contains(bad.row().issuanceKey().toString()));
        } finally {
            stopFailing();
        }
        Set<String> dead = keysOn(DedupTestResources.DLQ);
        dead.retainAll(keys);
        assertThat(dead).containsExactly(bad.row().issuanceKey().toString());
        // the rows behind the bad one are recorded after its dead letter went out
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(linked(rows))
                        .as("the other four stored and linked")
                        .isEqualTo(rows.size() - 1));
        Set<String> good = new TreeSet<>(keys);
        good.remove(bad.row().issuanceKey().toString());
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(
                        () -> assertThat(keysOn(DedupTestResources.DISCOVERED)).containsAll(good));
    }

    @Test
    void aPendingRowThatCannotBeRecordedIsDeadLetteredAndTheRowsBehindItGoOn() throws Exception {
        // the pending job took rows in due order: one failing for good must not stall the queue
        long issuer = CrtShRows.issuer();
        BigInteger badSerial = CrtShRows.serial();
        BigInteger goodSerial = CrtShRows.serial();
        CertificateObserved bad = served.observed(
                served.serve(badSerial, false, "bad.pending.test"), issuer, badSerial, false, "bad.pending.test");
        CertificateObserved good = served.observed(
                served.serve(goodSerial, false, "good.pending.test"), issuer, goodSerial, false, "good.pending.test");
        failCommitsOf(bad.row().id(), Long.MAX_VALUE, "23514");
        try {
            pending.defer(bad);
            pending.defer(good);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> keysOn(DedupTestResources.DLQ)
                                    .contains(bad.row().issuanceKey().toString())
                            && linked(List.of(good)) == 1);
        } finally {
            stopFailing();
        }
        // a row leaves the queue in a transaction of its own after the one that recorded it
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(pendingIds(List.of(bad, good)))
                        .as("neither waits any more")
                        .isZero());
        assertThat(linked(List.of(bad))).as("the bad row was not stored").isZero();
        // (the bad row's event may be out: it is acknowledged before the commit that failed)
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(keysOn(DedupTestResources.DISCOVERED))
                        .contains(good.row().issuanceKey().toString()));
    }

    @Test
    void aPendingRowWhoseCommitFailsForAMomentStaysPendingAndIsRecordedLater() throws Exception {
        long issuer = CrtShRows.issuer();
        BigInteger serial = CrtShRows.serial();
        CertificateObserved row = served.observed(
                served.serve(serial, false, "later.pending.test"), issuer, serial, false, "later.pending.test");
        double retriesBefore = metric("ctwatch_dedup_transaction_retries_total");
        long commitAttempts;
        failCommitsOf(row.row().id());
        try {
            pending.defer(row);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> linked(List.of(row)) == 1);
            commitAttempts = query("select nextval('dedup.test_commit_attempts')") - 1;
        } finally {
            stopFailing();
        }
        assertThat(commitAttempts).isEqualTo(FAILURES + 1);
        assertThat(metric("ctwatch_dedup_transaction_retries_total") - retriesBefore)
                .isEqualTo(FAILURES);
        await().atMost(Duration.ofSeconds(10)).until(() -> pendingIds(List.of(row)) == 0);
        assertThat(keysOn(DedupTestResources.DLQ))
                .doesNotContain(row.row().issuanceKey().toString());
    }

    // --- the failure: a deferred constraint trigger, fired when the transaction commits ------------

    private void failCommitsOf(long crtShId) throws SQLException {
        failCommitsOf(crtShId, FAILURES, "40001");
    }

    private void failCommitsOf(long crtShId, long failures, String sqlState) throws SQLException {
        execute(
                "drop trigger if exists test_fail_at_commit on dedup.crtsh_entry",
                "drop sequence if exists dedup.test_commit_attempts",
                "create sequence dedup.test_commit_attempts",
                """
                create or replace function dedup.test_fail_at_commit() returns trigger language plpgsql as $$
                begin
                  if nextval('dedup.test_commit_attempts') <= %d then
                    raise exception 'injected failure at commit of crt.sh id %%', new.crtsh_id using errcode = '%s';
                  end if;
                  return null;
                end $$
                """.formatted(failures, sqlState),
                """
                create constraint trigger test_fail_at_commit after insert on dedup.crtsh_entry
                  deferrable initially deferred for each row when (new.crtsh_id = %d)
                  execute function dedup.test_fail_at_commit()
                """.formatted(crtShId));
    }

    private void stopFailing() throws SQLException {
        execute(
                "drop trigger if exists test_fail_at_commit on dedup.crtsh_entry",
                "drop function if exists dedup.test_fail_at_commit()",
                "drop sequence if exists dedup.test_commit_attempts");
    }

    // --- helpers ---------------------------------------------------------------------------------

    /** All to partition 0, sent together: the rows arrive as one batch. */
    private void sendToOnePartition(List<CertificateObserved> rows) {
        for (CertificateObserved row : rows) {
            producer.send(new ProducerRecord<>(
                    DedupTestResources.OBSERVED,
                    0,
                    row.row().issuanceKey().toString(),
                    new EventSerializer<CertificateObserved>().serialize("t", row)));
        }
        producer.flush();
    }

    private List<CertificateObserved> rows(int n) {
        Instant notBefore = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        long issuer = ThreadLocalRandom.current().nextLong(1_000_000, Integer.MAX_VALUE);
        long firstId = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
        List<CertificateObserved> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = "commit" + i + ".failure.test";
            CrtShRow row = new CrtShRow(
                    firstId + i,
                    issuer,
                    "C=ZZ, O=ctwatch test, CN=Dedup Test CA",
                    name,
                    name,
                    CRTSH.format(notBefore),
                    CRTSH.format(notBefore),
                    CRTSH.format(notBefore.plus(90, ChronoUnit.DAYS)),
                    Long.toHexString(0x5000_0000L + i),
                    1);
            rows.add(new CertificateObserved(
                    row, List.of(new WatchMatch("failure.test", true, Map.of())), Instant.now(), true));
        }
        return rows;
    }

    private long linked(List<CertificateObserved> rows) throws SQLException {
        String ids = rows.stream().map(o -> o.row().id().toString()).collect(Collectors.joining(","));
        return query(
                "select count(*) from dedup.crtsh_entry where issuance_id is not null and crtsh_id in (" + ids + ")");
    }

    private long pendingIds(List<CertificateObserved> rows) throws SQLException {
        String ids = rows.stream().map(o -> o.row().id().toString()).collect(Collectors.joining(","));
        return query("select count(*) from dedup.pending_download where crtsh_id in (" + ids + ")");
    }

    private long query(String sql) throws SQLException {
        try (Connection c = db.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void execute(String... statements) throws SQLException {
        try (Connection c = db.getConnection();
                Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    /** Every key on a topic, read from its beginning to its current end. */
    private static Set<String> keysOn(String topic) {
        return CrtShRows.readToEnd(topic, new ByteArrayDeserializer()).stream()
                .map(ConsumerRecord::key)
                .filter(Objects::nonNull)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** The sum of a Prometheus counter's series, 0 when it has none yet. */
    private static double metric(String name) {
        String body = RestAssured.get("/q/metrics").asString();
        Matcher m = Pattern.compile("^" + name + "(\\{[^}]*})?\\s+(\\S+)", Pattern.MULTILINE)
                .matcher(body);
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
        }
        return sum;
    }
}
