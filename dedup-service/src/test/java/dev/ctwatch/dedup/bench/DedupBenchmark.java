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
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.smallrye.reactive.messaging.ChannelRegistry;
import io.smallrye.reactive.messaging.PausableChannel;
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
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
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
 * -Dtest=DedupBenchmark}. Measures, against the real PostgreSQL and Kafka, the raw
 * {@code INSERT … ON CONFLICT DO NOTHING} rate of the machine and the service's rate for rows whose
 * crt.sh id is already known (the steady state of every poll), so the figures are a ratio.
 */
@QuarkusTest
@TestProfile(DedupBenchmark.PausedConsumer.class)
@WithTestResource(DedupTestResources.class)
@Tag("benchmark")
class DedupBenchmark {
    private static final int ROWS = Integer.getInteger("bench.rows", 200_000);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    private static final int NEW_ROWS = Integer.getInteger("bench.new-rows", 3_000);
    private static final int BATCH = 500;
    private static final String CHANNEL = "certificates-observed";

    /** The consumer starts paused, so each round's backlog is on the broker before the service reads it. */
    public static class PausedConsumer implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "mp.messaging.incoming." + CHANNEL + ".pausable", "true",
                    "mp.messaging.incoming." + CHANNEL + ".initially-paused", "true");
        }
    }

    @Inject
    AgroalDataSource dataSource;

    @Inject
    ChannelRegistry channels;

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
        double fresh = newIssuanceRate();
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
     * Puts {@link #ROWS} records of known ids on the broker while the consumer is paused, resumes it
     * and returns [rows/s until every row was checked, rows/s until every offset was committed].
     */
    private double[] knownIdRound(long base) throws Exception {
        Properties p = new Properties();
        p.put(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        EventSerializer<CertificateObserved> serializer = new EventSerializer<>();
        List<WatchMatch> matches = List.of(new WatchMatch("bench.test", true, Map.of()));
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
        Counter repeats = metrics.counter("ctwatch.dedup.rows", "outcome", "repeat");
        double before = repeats.count();
        PausableChannel consumer = channels.getPausable(CHANNEL);
        long start = System.nanoTime();
        consumer.resume();
        try (Admin admin = DedupTestResources.admin()) {
            double checked = 0;
            while (true) {
                if (checked == 0 && repeats.count() - before >= ROWS) {
                    checked = ROWS / seconds(start);
                }
                if (checked > 0 && backlog(admin) == 0) {
                    return new double[] {checked, ROWS / seconds(start)};
                }
                if (seconds(start) > 600) {
                    throw new IllegalStateException("the service did not consume " + ROWS + " rows in 10 minutes");
                }
                Thread.sleep(checked == 0 ? 5 : 50);
            }
        } finally {
            consumer.pause();
        }
    }

    /**
     * {@link #NEW_ROWS} unseen ids whose certificates the in-test crt.sh serves (signed beforehand):
     * rows/s until the service counted every one as a new issuance. In production the download
     * limiter (one a second for the real crt.sh) bounds this path, not the service.
     */
    private double newIssuanceRate() throws Exception {
        TestCa ca = new TestCa("Bench CA");
        long issuer = 8_000_000L + System.nanoTime() % 1_000_000L;
        long base = 8_000_000_000_000L + (System.nanoTime() % 1_000_000_000L) * 1000;
        Instant notBefore = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        DateTimeFormatter crtSh =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
        EventSerializer<CertificateObserved> serializer = new EventSerializer<>();
        List<WatchMatch> matches = List.of(new WatchMatch("bench.test", true, Map.of()));
        Properties p = new Properties();
        p.put(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < NEW_ROWS; i++) {
                long id = base + i;
                BigInteger serial = BigInteger.valueOf(id).shiftLeft(64).or(BigInteger.valueOf(i));
                String name = "n" + i + ".bench.test";
                byte[] der = ca.issue(serial, List.of(name), false, notBefore);
                DedupTestResources.PEMS.put(
                        id,
                        "-----BEGIN CERTIFICATE-----\n"
                                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                                + "\n-----END CERTIFICATE-----\n");
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
                producer.send(new ProducerRecord<>(
                        DedupTestResources.OBSERVED,
                        row.issuanceKey().toString(),
                        serializer.serialize(null, new CertificateObserved(row, matches, Instant.now(), false))));
            }
        }
        Counter created = metrics.counter("ctwatch.dedup.rows", "outcome", "new");
        double before = created.count();
        PausableChannel consumer = channels.getPausable(CHANNEL);
        long start = System.nanoTime();
        consumer.resume();
        try {
            while (created.count() - before < NEW_ROWS) {
                if (seconds(start) > 600) {
                    throw new IllegalStateException(
                            "the service did not record " + NEW_ROWS + " issuances in 10 minutes");
                }
                Thread.sleep(5);
            }
            return NEW_ROWS / seconds(start);
        } finally {
            consumer.pause();
        }
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
