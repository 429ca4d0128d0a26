package dev.ctwatch.dedup.bench;

import dev.ctwatch.dedup.DedupTestResources;
import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.events.WatchMatch;
import io.agroal.api.AgroalDataSource;
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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
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
 * -Dtest=DedupBenchmark}. Measures, against the real PostgreSQL and Kafka, the raw
 * {@code INSERT … ON CONFLICT DO NOTHING} rate of the machine and the service's rate for rows whose
 * crt.sh id is already known (the steady state of every poll), so the figures are a ratio.
 */
@QuarkusTest
@WithTestResource(DedupTestResources.class)
@Tag("benchmark")
class DedupBenchmark {
    private static final int ROWS = Integer.getInteger("bench.rows", 200_000);
    private static final int BATCH = 500;

    @Inject
    AgroalDataSource dataSource;

    @Test
    void printFigures() throws Exception {
        double raw = rawInsertRate();
        long base = 9_000_000_000_000L + (System.nanoTime() % 1_000_000_000L) * 1000;
        insertKnownIds(base);
        double[] known = knownIdRate(base);
        System.out.printf(
                "BENCH dedup: raw INSERT ON CONFLICT DO NOTHING, sequential ids %,.0f rows/s (unnest, %d per statement, one commit each)%n",
                raw, BATCH);
        System.out.printf(
                "BENCH dedup: known-id rows through the service %,.0f rows/s = %.0f%% of the raw insert rate"
                        + " (%d rows; %,.0f rows/s counting from the first produced record, producer in the same JVM)%n",
                known[1], 100 * known[1] / raw, ROWS, known[0]);
        System.out.printf(
                "BENCH dedup: test JVM (service inside) RSS %d MB, heap used %d MB%n",
                rssKb() / 1024,
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024));
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

    /** [from the first produced record, after the producer finished] in rows/s. */
    private double[] knownIdRate(long base) throws Exception {
        Properties p = new Properties();
        p.put(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        EventSerializer<CertificateObserved> serializer = new EventSerializer<>();
        List<WatchMatch> matches = List.of(new WatchMatch("bench.test", true, Map.of()));
        long start = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
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
                producer.send(new ProducerRecord<>(
                        DedupTestResources.OBSERVED,
                        "7:" + Long.toHexString(id),
                        serializer.serialize(null, new CertificateObserved(row, matches, Instant.now(), false))));
            }
        }
        try (Admin admin = DedupTestResources.admin()) {
            var partitions = admin
                    .describeTopics(List.of(DedupTestResources.OBSERVED))
                    .allTopicNames()
                    .get()
                    .get(DedupTestResources.OBSERVED)
                    .partitions()
                    .stream()
                    .map(info -> new TopicPartition(DedupTestResources.OBSERVED, info.partition()))
                    .toList();
            Map<TopicPartition, Long> ends = new java.util.HashMap<>();
            admin.listOffsets(partitions.stream()
                            .collect(java.util.stream.Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest())))
                    .all()
                    .get()
                    .forEach((tp, info) -> ends.put(tp, info.offset()));
            String group = "dedup-test-" + DedupTestResources.RUN;
            long produced = System.nanoTime();
            long backlog = -1;
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata()
                        .get(10, TimeUnit.SECONDS);
                long remaining = 0;
                for (var end : ends.entrySet()) {
                    OffsetAndMetadata done = committed.get(end.getKey());
                    remaining += Math.max(0, end.getValue() - (done == null ? 0 : done.offset()));
                }
                if (backlog < 0) {
                    backlog = Math.min(remaining, ROWS);
                }
                if (remaining == 0) {
                    return new double[] {ROWS / seconds(start), backlog / seconds(produced)};
                }
                if (seconds(start) > 600) {
                    throw new IllegalStateException("the service did not consume " + ROWS + " rows in 10 minutes");
                }
                Thread.sleep(50);
            }
        }
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
