package dev.ctwatch.dedup.bench;

import dev.ctwatch.dedup.DedupTestResources;
import dev.ctwatch.dedup.certificate.TestCa;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.events.WatchMatch;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Not a test: prints figures. Run with {@code deploy/test.sh -pl dedup-service -Dgroups=benchmark
 * -DexcludedGroups=none -Dtest=DedupBenchmark}. Measures, against the real PostgreSQL and Kafka, the
 * raw {@code INSERT … ON CONFLICT DO NOTHING} rate of the machine and the service's rate for rows
 * whose crt.sh id is already known (the steady state of every poll; rounds after the first are
 * warm), so the figures are a ratio; then new issuances from backfill rows and from downloads.
 */
@QuarkusTest
@WithTestResource(DedupTestResources.class)
@Tag("benchmark")
class DedupBenchmark {
    private static final int ROWS = Integer.getInteger("bench.rows", 200_000);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    private static final int NEW_ROWS = Integer.getInteger("bench.new-rows", 3_000);
    private static final int BACKFILL_ROWS = Integer.getInteger("bench.backfill-rows", 20_000);
    private static final int BATCH = 500;

    @Inject
    AgroalDataSource dataSource;

    @Inject
    MeterRegistry metrics;

    @Test
    void printFigures() throws Exception {
        double raw = rawInsertRate();
        System.out.printf(
                "BENCH dedup: raw INSERT ON CONFLICT DO NOTHING, sequential ids %,.0f rows/s (unnest, %d per statement, one commit each)%n",
                raw, BATCH);
        List<String> processed = new ArrayList<>();
        List<String> committed = new ArrayList<>();
        double best = 0;
        for (int round = 0; round < ROUNDS; round++) {
            long base = 9_000_000_000_000L + (System.nanoTime() % 1_000_000_000L) * 1000;
            insertKnownIds(base);
            double[] rates = knownIdRound(base);
            processed.add(String.format("%,.0f", rates[0]));
            committed.add(String.format("%,.0f", rates[1]));
            if (round > 0) {
                best = Math.max(best, rates[0]);
            }
        }
        System.out.printf(
                "BENCH dedup: known-id rows through the service, %,d-row backlog per round (first round cold): %s rows/s"
                        + " until every row was checked; %s rows/s until every offset was committed%n",
                ROWS, String.join(" / ", processed), String.join(" / ", committed));
        System.out.printf(
                "BENCH dedup: best warm known-id rate %,.0f rows/s = %.0f%% of the raw insert rate%n",
                best, 100 * best / raw);
        double backfill = newIssuanceRate(BACKFILL_ROWS, true);
        System.out.printf(
                "BENCH dedup: new issuances from backfill rows (no download; recorded from the row, 100 per"
                        + " transaction, events acknowledged before commit): %,.0f rows/s (%,d rows)%n",
                backfill, BACKFILL_ROWS);
        double fresh = newIssuanceRate(NEW_ROWS, false);
        System.out.printf(
                "BENCH dedup: new issuances through the service (download from the in-test crt.sh with no spacing,"
                        + " parse, insert, emit, broker acknowledgement before commit): %,.0f rows/s (%,d rows)%n",
                fresh, NEW_ROWS);
        System.out.printf(
                "BENCH dedup: test JVM (service, producer and test inside) RSS %d MB, heap used %d MB, max heap %d MB%n",
                rssKb() / 1024,
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024),
                Runtime.getRuntime().maxMemory() / (1024 * 1024));
    }

    private double rawInsertRate() throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            // a logged table like crtsh_entry: a temporary one skips the WAL and flatters the machine
            c.createStatement().execute("create table dedup.bench_raw (id bigint primary key)");
            c.commit();
            try {
                long start = System.nanoTime();
                insertAll(c, "insert into dedup.bench_raw (id) select unnest(?) on conflict do nothing", 1);
                double sequential = ROWS / seconds(start);
                c.createStatement().execute("truncate dedup.bench_raw");
                c.commit();
                start = System.nanoTime();
                insertAll(c, "insert into dedup.bench_raw (id) select unnest(?) on conflict do nothing", -1);
                double random = ROWS / seconds(start);
                System.out.printf(
                        "%nBENCH dedup: raw INSERT ON CONFLICT DO NOTHING, random-order ids %,.0f rows/s%n", random);
                return sequential;
            } finally {
                c.createStatement().execute("drop table dedup.bench_raw");
                c.commit();
            }
        }
    }

    private void insertKnownIds(long base) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            insertAll(c, "insert into dedup.crtsh_entry (crtsh_id) select unnest(?) on conflict do nothing", base);
        }
    }

    private static void insertAll(Connection c, String sql, long base) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < ROWS; i += BATCH) {
                Long[] ids = new Long[Math.min(BATCH, ROWS - i)];
                for (int j = 0; j < ids.length; j++) {
                    // base -1: random ids, as a B-tree sees keys that do not arrive in order
                    ids[j] = base < 0
                            ? java.util.concurrent.ThreadLocalRandom.current().nextLong(1L << 40)
                            : base + i + j;
                }
                Array array = c.createArrayOf("bigint", ids);
                ps.setArray(1, array);
                ps.executeUpdate();
                c.commit();
            }
        }
    }

    /**
     * {@link #ROWS} records of known ids, serialized first and then sent in a tight loop; returns
     * [rows/s from the first to the last row the service checked, rows/s until every offset was
     * committed]. The service reads while the producer still sends (same JVM, same two cores), so
     * the first figure is a lower bound of the consumer's own rate.
     */
    private double[] knownIdRound(long base) throws Exception {
        EventSerializer<CertificateObserved> serializer = new EventSerializer<>();
        List<WatchMatch> matches = List.of(new WatchMatch("bench.test", true, Map.of()));
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(ROWS);
        for (int i = 0; i < ROWS; i++) {
            long id = base + i;
            CrtShRow row = new CrtShRow(
                    id,
                    7L,
                    "C=ZZ, O=bench, CN=Bench CA",
                    "www.bench.test",
                    "www.bench.test",
                    "2026-12-01T00:00:00.1",
                    "2026-12-01T00:00:00",
                    "2027-03-01T00:00:00",
                    BigInteger.valueOf(id).toString(16),
                    1);
            records.add(new ProducerRecord<>(
                    DedupTestResources.OBSERVED,
                    "7:" + Long.toHexString(id),
                    serializer.serialize(null, new CertificateObserved(row, matches, Instant.now(), false))));
        }
        Counter repeats = metrics.counter("ctwatch.dedup.rows", "outcome", "repeat");
        long sent = System.nanoTime();
        double[] window = countedWindow(repeats, ROWS, records);
        try (Admin admin = DedupTestResources.admin()) {
            while (backlog(admin) > 0) {
                if (seconds(sent) > 600) {
                    throw new IllegalStateException("offsets of " + ROWS + " rows not committed in 10 minutes");
                }
                Thread.sleep(50);
            }
        }
        return new double[] {ROWS / window[0], ROWS / seconds(sent)};
    }

    /**
     * Sends the records and waits until {@code counter} has grown by {@code count}; returns
     * [seconds from the first to the last counted row].
     */
    private static double[] countedWindow(Counter counter, int count, List<ProducerRecord<String, byte[]>> records)
            throws Exception {
        Properties p = new Properties();
        p.put(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        double before = counter.count();
        AtomicLong first = new AtomicLong();
        Thread watcher = new Thread(() -> {
            while (first.get() == 0 && !Thread.currentThread().isInterrupted()) {
                if (counter.count() > before) {
                    first.set(System.nanoTime());
                }
                Thread.onSpinWait();
            }
        });
        watcher.setDaemon(true);
        watcher.start();
        long start = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (ProducerRecord<String, byte[]> record : records) {
                producer.send(record);
            }
        }
        while (counter.count() - before < count) {
            if (seconds(start) > 600) {
                watcher.interrupt();
                throw new IllegalStateException("the service did not count " + count + " rows in 10 minutes");
            }
            Thread.sleep(2);
        }
        long last = System.nanoTime();
        watcher.interrupt();
        return new double[] {(last - first.get()) / 1e9};
    }

    /**
     * {@link #NEW_ROWS} unseen ids whose certificates the in-test crt.sh serves (signed beforehand):
     * rows/s until the service counted every one as a new issuance. In production the download
     * limiter (one a second for the real crt.sh) bounds this path, not the service.
     */
    private double newIssuanceRate(int count, boolean backfill) throws Exception {
        TestCa ca = new TestCa("Bench CA");
        long issuer = 8_000_000L + System.nanoTime() % 1_000_000L;
        long base = 8_000_000_000_000L + (System.nanoTime() % 1_000_000_000L) * 1000;
        Instant notBefore = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        DateTimeFormatter crtSh =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
        EventSerializer<CertificateObserved> serializer = new EventSerializer<>();
        List<WatchMatch> matches = List.of(new WatchMatch("bench.test", true, Map.of()));
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(count);
        {
            for (int i = 0; i < count; i++) {
                long id = base + i;
                BigInteger serial = BigInteger.valueOf(id).shiftLeft(64).or(BigInteger.valueOf(i));
                String name = "n" + i + ".bench.test";
                if (!backfill) {
                    byte[] der = ca.issue(serial, List.of(name), false, notBefore);
                    DedupTestResources.PEMS.put(id, TestCa.pem(der));
                }
                CrtShRow row = new CrtShRow(
                        id,
                        issuer,
                        "C=ZZ, O=ctwatch test, CN=Bench CA",
                        name,
                        name,
                        crtSh.format(notBefore),
                        crtSh.format(notBefore),
                        crtSh.format(notBefore.plus(90, ChronoUnit.DAYS)),
                        serial.toString(16),
                        1);
                records.add(new ProducerRecord<>(
                        DedupTestResources.OBSERVED,
                        row.issuanceKey().toString(),
                        serializer.serialize(null, new CertificateObserved(row, matches, Instant.now(), backfill))));
            }
        }
        Counter created = metrics.counter("ctwatch.dedup.rows", "outcome", "new");
        return count / countedWindow(created, count, records)[0];
    }

    /** Records on the topic that the service's group has not committed yet. */
    private static long backlog(Admin admin) throws Exception {
        var partitions = admin
                .describeTopics(List.of(DedupTestResources.OBSERVED))
                .allTopicNames()
                .get()
                .get(DedupTestResources.OBSERVED)
                .partitions()
                .stream()
                .map(info -> new TopicPartition(DedupTestResources.OBSERVED, info.partition()))
                .toList();
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(
                        partitions.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest())))
                .all()
                .get();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                        "dedup-test-" + DedupTestResources.RUN)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS);
        long remaining = 0;
        for (var end : ends.entrySet()) {
            OffsetAndMetadata done = committed.get(end.getKey());
            remaining += Math.max(0, end.getValue().offset() - (done == null ? 0 : done.offset()));
        }
        return remaining;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }
}
