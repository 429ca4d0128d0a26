package dev.ctwatch.e2e;

import static dev.ctwatch.e2e.TestEnvironment.createDatabase;
import static dev.ctwatch.e2e.TestEnvironment.dbPassword;
import static dev.ctwatch.e2e.TestEnvironment.dbUser;
import static dev.ctwatch.e2e.TestEnvironment.required;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.events.WatchMatch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The packaged dedup-service against the real broker and PostgreSQL, where its guarantees are
 * tested: a SIGKILL between emit and commit, and two instances of one consumer group.
 *
 * <p>The rows are backfill rows: recorded from crt.sh's row without a download, and emitted to the
 * discovered topic like any new issuance, so thousands of issuances cost no crt.sh stand-in.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DedupCrashAndGroupTest {
    /** Backfill rows per transaction in the dedup service (Deduplicator.BACKFILL_CHUNK). */
    private static final int CHUNK = 100;

    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final DateTimeFormatter CRTSH =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
    /** The service's {@code max.poll.records}: one batch. */
    private static final int BATCH = 2000;

    private final String run = "dedup-" + UUID.randomUUID().toString().substring(0, 8);
    private final Path work = REPO.resolve("e2e/target/" + run);
    private final List<ServiceProcess> processes = new ArrayList<>();
    private final List<String> databases = new ArrayList<>();
    private final List<String> topics = new ArrayList<>();
    private final Instant notBefore = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private String bootstrap;
    private Admin admin;
    private KafkaProducer<String, byte[]> producer;

    @BeforeAll
    void connect() {
        bootstrap = required("KAFKA_BOOTSTRAP_SERVERS");
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        admin = Admin.create(config);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * SIGKILL once a quarter of the issuances are on the discovered topic, then a restart. Backfill
     * rows are recorded in transactions of up to {@value #CHUNK} rows whose events are all
     * acknowledged before the commit, so only the chunk in flight between acknowledgement and commit
     * can be emitted twice; rows committed but whose offsets were not come back as repeats and are
     * not emitted again.
     */
    @Test
    void aKilledInstanceLosesNothingAndRepeatsAtMostTheChunkInFlight() throws Exception {
        Scenario s = scenario("crash");
        int n = 4000;
        List<CertificateObserved> rows = rows(n);
        for (CertificateObserved row : rows) {
            s.send(row);
        }
        producer.flush();

        ServiceProcess first = s.start("dedup-crash-1");
        long[] emittedBeforeKill = {0};
        try (DiscoveredReader reader = new DiscoveredReader(s.discovered)) {
            // mid-stream: rows recorded whose offsets are not committed yet come back after the restart
            await("a quarter of the issuances discovered")
                    .atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> {
                        assertAlive(first);
                        emittedBeforeKill[0] += reader.poll();
                        return emittedBeforeKill[0] >= n / 4;
                    });
        }
        first.kill();
        // a commit the instance sent just before it died is still carried out by its server process;
        // counting before that process is gone could miss a chunk the restarted instance then repeats
        s.awaitNoClientSessions();
        long storedAtKill = s.count("select count(*) from dedup.issuance");
        System.out.printf(
                "CRASH killed after %d discovered records were seen; %d of %d issuances stored%n",
                emittedBeforeKill[0], storedAtKill, n);
        assertThat(storedAtKill).as("the kill interrupted the work").isLessThan(n);

        long restartedAt = System.nanoTime();
        ServiceProcess second = s.start("dedup-crash-2");
        s.awaitDone(n, List.of(second));
        double seconds = (System.nanoTime() - restartedAt) / 1e9;
        Map<String, Double> counters = rowCounters(second);

        assertThat(s.count("select count(*) from dedup.issuance")).isEqualTo(n);
        assertThat(s.count("select count(*) from dedup.crtsh_entry")).isEqualTo(n);
        assertThat(s.count("select count(*) from dedup.crtsh_entry where issuance_id is null"))
                .isZero();
        assertThat(s.count("select count(distinct (issuer_ca_id, serial_hex)) from dedup.issuance"))
                .isEqualTo(n);

        List<String> keys = s.discoveredKeys();
        Map<String, Long> perKey = keys.stream().collect(Collectors.groupingBy(k -> k, Collectors.counting()));
        Set<String> twice = new TreeSet<>();
        perKey.forEach((k, c) -> {
            if (c > 1) {
                twice.add(k);
            }
        });
        System.out.printf(
                "CRASH restarted instance: %.1f s to finish; rows new=%.0f repeat=%.0f; discovered records %d for %d"
                        + " issuances, emitted twice: %d %s%n",
                seconds,
                counters.getOrDefault("new", 0.0),
                counters.getOrDefault("repeat", 0.0),
                keys.size(),
                perKey.size(),
                twice.size(),
                twice);
        assertThat(perKey.keySet()).as("nothing lost").isEqualTo(keysOf(rows));
        assertThat(perKey.values()).as("no issuance more than twice").allMatch(c -> c <= 2);
        assertThat(twice)
                .as("only the chunk in flight between acknowledgement and commit may be emitted again")
                .hasSizeLessThanOrEqualTo(CHUNK);
        assertThat(counters.getOrDefault("new", 0.0))
                .as("the restarted instance recorded the rest")
                .isEqualTo((double) (n - storedAtKill));
        assertThat(s.deadLetters()).isZero();
    }

    /**
     * Two instances in one group on a three-partition topic: rows before, while and after the
     * second joins (a rebalance moves partitions while the first is busy), then every row again and
     * second crt.sh ids of the same issuances. Each issuance is emitted once.
     */
    @Test
    void twoInstancesOfOneGroupEmitEachIssuanceOnce() throws Exception {
        Scenario s = scenario("group");
        int n = 6000;
        List<CertificateObserved> rows = rows(n);
        ServiceProcess a = s.start("dedup-group-a");
        for (CertificateObserved row : rows.subList(0, 2000)) {
            s.send(row);
        }
        producer.flush();
        await("instance a consumes").atMost(Duration.ofSeconds(120)).until(() -> {
            assertAlive(a);
            return s.count("select count(*) from dedup.issuance") > 0;
        });

        ServiceProcess b = s.launch("dedup-group-b");
        // rows keep coming while b starts and the group rebalances
        int next = 2000;
        long joinStarted = System.nanoTime();
        while (s.members() < 2 && next < 4000) {
            for (CertificateObserved row : rows.subList(next, next + 100)) {
                s.send(row);
            }
            producer.flush();
            next += 100;
            TimeUnit.MILLISECONDS.sleep(250);
        }
        s.awaitReady(b);
        await("b joins the group").atMost(Duration.ofSeconds(120)).until(() -> {
            assertAlive(a);
            assertAlive(b);
            return s.members() == 2;
        });
        System.out.printf(
                "GROUP b joined after %.1f s, %d rows produced by then%n",
                (System.nanoTime() - joinStarted) / 1e9, next);
        for (CertificateObserved row : rows.subList(next, n)) {
            s.send(row);
        }
        // redelivery: every row again, and a second crt.sh id of every tenth issuance (a twin)
        for (CertificateObserved row : rows) {
            s.send(row);
        }
        List<CertificateObserved> twins = new ArrayList<>();
        for (int i = 0; i < n; i += 10) {
            CertificateObserved twin = withId(rows.get(i), rows.get(i).row().id() + n);
            twins.add(twin);
            s.send(twin);
        }
        producer.flush();

        s.awaitDone(n, List.of(a, b));
        Map<String, Double> countersA = rowCounters(a);
        Map<String, Double> countersB = rowCounters(b);
        System.out.printf("GROUP rows a=%s b=%s%n", countersA, countersB);

        assertThat(s.count("select count(*) from dedup.issuance")).isEqualTo(n);
        assertThat(s.count("select count(*) from dedup.crtsh_entry")).isEqualTo(n + twins.size());
        assertThat(s.count("select count(*) from dedup.crtsh_entry where issuance_id is null"))
                .isZero();
        List<String> keys = s.discoveredKeys();
        assertThat(keys).as("each issuance emitted once").doesNotHaveDuplicates();
        assertThat(new TreeSet<>(keys)).isEqualTo(keysOf(rows));
        assertThat(s.deadLetters()).isZero();
        for (Map<String, Double> counters : List.of(countersA, countersB)) {
            assertThat(counters.values().stream()
                            .mapToDouble(Double::doubleValue)
                            .sum())
                    .as("both instances consumed rows")
                    .isPositive();
        }
        double recorded = countersA.getOrDefault("new", 0.0) + countersB.getOrDefault("new", 0.0);
        double twinned = countersA.getOrDefault("twin", 0.0) + countersB.getOrDefault("twin", 0.0);
        assertThat(recorded).isEqualTo(n);
        assertThat(twinned).isEqualTo(twins.size());
    }

    // --- one scenario: its own topics, consumer group and database ---------------------------------

    /**
     * Not a test: figures of one packaged instance alone (its own JVM; options from
     * {@code -Dfootprint.jvm}, default {@code -Xmx256m} as deploy/run.sh starts it): RSS idle, then while it checks 200,000 rows of known crt.sh ids and
     * records 20,000 backfill rows, and both rates with the producer in another process.
     * Run: {@code deploy/test.sh -pl e2e -Dtest=DedupCrashAndGroupTest -Dgroups=benchmark -DexcludedGroups=none}.
     */
    @Test
    @org.junit.jupiter.api.Tag("benchmark")
    void footprintOfOneInstanceUnderLoad() throws Exception {
        Scenario s = scenario("footprint");
        List<String> jvm =
                List.of(System.getProperty("footprint.jvm", "-Xmx256m").split(" "));
        ServiceProcess instance = new ServiceProcess("dedup-service", "footprint", s.properties, work).jvmOptions(jvm);
        processes.add(instance);
        s.awaitReady(instance.start());
        Thread.sleep(3000);
        long idle = instance.rssKb()[0];
        int known = 200_000;
        List<CertificateObserved> repeats = rows(known);
        try (Connection c = DriverManager.getConnection(s.jdbcUrl, dbUser(), dbPassword())) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into dedup.crtsh_entry (crtsh_id) select unnest(?) on conflict do nothing")) {
                for (int i = 0; i < known; i += 5000) {
                    ps.setArray(
                            1,
                            c.createArrayOf(
                                    "bigint",
                                    repeats.subList(i, Math.min(known, i + 5000)).stream()
                                            .map(o -> o.row().id())
                                            .toArray()));
                    ps.executeUpdate();
                }
            }
            c.commit();
        }
        long[] peak = {0};
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    peak[0] = Math.max(peak[0], instance.rssKb()[0]);
                    Thread.sleep(50);
                } catch (Exception e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        double knownRate = timedRows(s, instance, repeats, "repeat");
        double backfillRate = timedRows(s, instance, rows(20_000), "new");
        sampler.interrupt();
        sampler.join();
        long[] rss = instance.rssKb();
        System.out.printf(
                "%nFOOTPRINT dedup-service (packaged, %s, producer in another JVM): RSS idle %d MB, peak"
                        + " sampled under load %d MB, VmHWM %d MB; %,d known-id rows at %,.0f rows/s; 20,000"
                        + " backfill rows at %,.0f rows/s%n",
                String.join(" ", jvm), idle >> 10, peak[0] >> 10, rss[1] >> 10, known, knownRate, backfillRate);
    }

    /** Sends the rows and returns rows/s from the first send until the outcome counter has counted them all. */
    private double timedRows(Scenario s, ServiceProcess instance, List<CertificateObserved> rows, String outcome)
            throws Exception {
        double before = rowCounters(instance).getOrDefault(outcome, 0.0);
        long start = System.nanoTime();
        for (CertificateObserved row : rows) {
            s.send(row);
        }
        producer.flush();
        await(outcome + " rows counted")
                .atMost(Duration.ofSeconds(600))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> rowCounters(instance).getOrDefault(outcome, 0.0) - before >= rows.size());
        return rows.size() / ((System.nanoTime() - start) / 1e9);
    }

    private Scenario scenario(String name) throws Exception {
        String prefix = run + "-" + name;
        String observed = prefix + ".ctwatch.certificates.observed.v1";
        String discovered = prefix + ".ctwatch.certificates.discovered.v1";
        String dlq = observed + ".dlq";
        admin.createTopics(List.of(
                        new NewTopic(observed, 3, (short) 1),
                        new NewTopic(discovered, 3, (short) 1),
                        new NewTopic(dlq, 1, (short) 1)))
                .all()
                .get(30, TimeUnit.SECONDS);
        topics.addAll(List.of(observed, discovered, dlq));
        String db = "ctwatch_" + prefix.replace('-', '_');
        String jdbcUrl = createDatabase(db);
        databases.add(db);

        Map<String, String> p = new LinkedHashMap<>();
        p.put("kafka.bootstrap.servers", bootstrap);
        p.put("quarkus.http.port", "0");
        p.put("quarkus.datasource.jdbc.url", jdbcUrl);
        p.put("quarkus.datasource.username", dbUser());
        p.put("quarkus.datasource.password", dbPassword());
        p.put("quarkus.rest-client.crtsh.url", "http://127.0.0.1:9"); // backfill rows download nothing
        // ...and their certificates are not fetched later either: this test is about the consumer
        p.put("dedup.backfill-completion.enabled", "false");
        String in = "mp.messaging.incoming.certificates-observed.";
        p.put(in + "topic", observed);
        p.put(in + "group.id", prefix);
        p.put(in + "dead-letter-queue.topic", dlq);
        // a killed member leaves the group after 10 s instead of the default 45 s
        p.put(in + "session.timeout.ms", "10000");
        p.put(in + "heartbeat.interval.ms", "1000");
        p.put("mp.messaging.outgoing.certificates-discovered.topic", discovered);
        p.put("mp.messaging.outgoing.observed-dead-letters.topic", dlq);
        return new Scenario(observed, discovered, dlq, prefix, jdbcUrl, p);
    }

    private final class Scenario {
        final String observed;
        final String discovered;
        final String dlq;
        final String group;
        final String jdbcUrl;
        final Map<String, String> properties;

        Scenario(
                String observed,
                String discovered,
                String dlq,
                String group,
                String jdbcUrl,
                Map<String, String> properties) {
            this.observed = observed;
            this.discovered = discovered;
            this.dlq = dlq;
            this.group = group;
            this.jdbcUrl = jdbcUrl;
            this.properties = properties;
        }

        /** Starts an instance and waits until it is ready (Flyway has migrated, channels are up). */
        ServiceProcess start(String instance) throws Exception {
            return awaitReady(launch(instance));
        }

        ServiceProcess launch(String instance) throws Exception {
            ServiceProcess process = new ServiceProcess("dedup-service", instance, properties, work);
            processes.add(process);
            return process.start();
        }

        ServiceProcess awaitReady(ServiceProcess process) {
            await(process + " ready")
                    .atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(500))
                    .ignoreExceptionsMatching(e -> !(e instanceof AssertionError))
                    .until(() -> {
                        assertAlive(process);
                        return get(process, "/q/health/ready").statusCode() == 200;
                    });
            return process;
        }

        void send(CertificateObserved row) {
            producer.send(new ProducerRecord<>(
                    observed,
                    row.row().issuanceKey().toString(),
                    new EventSerializer<CertificateObserved>().serialize(observed, row)));
        }

        /** Until every issuance is stored and the group committed the end of the observed topic. */
        void awaitDone(int issuances, List<ServiceProcess> running) {
            try {
                await("dedup done")
                        .atMost(Duration.ofSeconds(300))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> {
                            for (ServiceProcess p : running) {
                                assertAlive(p);
                            }
                            return count("select count(*) from dedup.issuance") == issuances && lag() == 0;
                        });
            } catch (RuntimeException | AssertionError e) {
                StringBuilder logs = new StringBuilder();
                for (ServiceProcess p : running) {
                    logs.append("\n--- ").append(p).append('\n').append(p.logTail());
                }
                throw new AssertionError("dedup did not finish" + logs, e);
            }
        }

        /** Records of the observed topic not yet committed by the group. */
        long lag() throws Exception {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            long lag = 0;
            for (Map.Entry<TopicPartition, Long> end : endOffsets(observed).entrySet()) {
                OffsetAndMetadata c = committed.get(end.getKey());
                lag += end.getValue() - (c == null ? 0 : c.offset());
            }
            return lag;
        }

        /** Members of the group that hold partitions. */
        int members() throws Exception {
            ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group))
                    .describedGroups()
                    .get(group)
                    .get(30, TimeUnit.SECONDS);
            return (int) description.members().stream()
                    .filter(m -> !m.assignment().topicPartitions().isEmpty())
                    .count();
        }

        /** Every key on the discovered topic, read up to its end offsets. */
        List<String> discoveredKeys() throws Exception {
            List<String> keys = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> r : readAll(discovered)) {
                keys.add(r.key());
            }
            return keys;
        }

        long deadLetters() throws Exception {
            return endOffsets(dlq).values().stream().mapToLong(Long::longValue).sum();
        }

        /** Until no client but the asking one is connected to this scenario's database. */
        void awaitNoClientSessions() {
            await("sessions of the killed instance closed")
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> count("select count(*) from pg_stat_activity where datname = current_database()"
                                    + " and backend_type = 'client backend' and pid <> pg_backend_pid()")
                            == 0);
        }

        long count(String sql) throws SQLException {
            try (Connection c = DriverManager.getConnection(jdbcUrl, dbUser(), dbPassword());
                    ResultSet rs = c.createStatement().executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Polls the discovered topic from its beginning and counts what arrives. */
    private final class DiscoveredReader implements AutoCloseable {
        private final KafkaConsumer<String, byte[]> consumer;

        DiscoveredReader(String topic) throws Exception {
            consumer = consumer();
            List<TopicPartition> partitions =
                    endOffsets(topic).keySet().stream().toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        int poll() {
            return consumer.poll(Duration.ofMillis(50)).count();
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    private List<ConsumerRecord<String, byte[]>> readAll(String topic) throws Exception {
        Map<TopicPartition, Long> end = endOffsets(topic);
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            consumer.assign(end.keySet());
            consumer.seekToBeginning(end.keySet());
            Supplier<Boolean> atEnd =
                    () -> end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
            await("read " + topic).atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return atEnd.get();
            });
        }
        return records;
    }

    private Map<TopicPartition, Long> endOffsets(String topic) throws Exception {
        var description = admin.describeTopics(List.of(topic))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(topic);
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        description
                .partitions()
                .forEach(p -> request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
        return end;
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    // --- rows ------------------------------------------------------------------------------------------

    /** Backfill rows of {@code n} distinct issuances of one issuer, each with its own crt.sh id. */
    private List<CertificateObserved> rows(int n) {
        long issuer = ThreadLocalRandom.current().nextLong(1_000_000, Integer.MAX_VALUE);
        long firstId = ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50);
        List<CertificateObserved> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String name = "host" + i + "." + run + ".test";
            CrtShRow row = new CrtShRow(
                    firstId + i,
                    issuer,
                    "C=ZZ, O=ctwatch test, CN=Dedup Crash CA",
                    name,
                    name,
                    CRTSH.format(notBefore),
                    CRTSH.format(notBefore),
                    CRTSH.format(notBefore.plus(90, ChronoUnit.DAYS)),
                    "00" + Long.toHexString(0x10_0000_0000L + i),
                    1);
            rows.add(new CertificateObserved(
                    row, List.of(new WatchMatch(run + ".test", true, Map.of())), Instant.now(), true));
        }
        return rows;
    }

    /** The same issuance under another crt.sh id (crt.sh lists a precertificate and its certificate). */
    private static CertificateObserved withId(CertificateObserved o, long id) {
        CrtShRow r = o.row();
        CrtShRow row = new CrtShRow(
                id,
                r.issuerCaId(),
                r.issuerName(),
                r.commonName(),
                r.nameValue(),
                r.entryTimestamp(),
                r.notBefore(),
                r.notAfter(),
                r.serialNumber(),
                r.resultCount());
        return new CertificateObserved(row, o.matches(), o.fetchedAt(), o.backfill());
    }

    private static Set<String> keysOf(List<CertificateObserved> rows) {
        return rows.stream().map(o -> o.row().issuanceKey().toString()).collect(Collectors.toCollection(TreeSet::new));
    }

    // --- processes, metrics, database --------------------------------------------------------------------

    private static void assertAlive(ServiceProcess process) {
        if (!process.alive()) {
            throw new AssertionError(process + " died:\n" + process.logTail());
        }
    }

    /** {@code ctwatch_dedup_rows_total} by outcome, from the instance's Prometheus endpoint. */
    private static Map<String, Double> rowCounters(ServiceProcess process) throws Exception {
        String body = get(process, "/q/metrics").body();
        Map<String, Double> counters = new LinkedHashMap<>();
        var line = java.util.regex.Pattern.compile(
                "^ctwatch_dedup_rows_total\\{[^}]*outcome=\"([a-z_]+)\"[^}]*}\\s+(\\S+)",
                java.util.regex.Pattern.MULTILINE);
        var m = line.matcher(body);
        while (m.find()) {
            counters.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return counters;
    }

    private static HttpResponse<String> get(ServiceProcess process, String path) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + process.httpPort() + path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    @AfterEach
    void stopProcesses() throws Exception {
        for (ServiceProcess process : processes) {
            process.close();
        }
        processes.clear();
    }

    @AfterAll
    void cleanUp() throws Exception {
        stopProcesses();
        if (producer != null) {
            producer.close();
        }
        TestEnvironment.dropDatabases(databases);
        if (admin != null) {
            try {
                admin.deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                // best effort: the names are unique to this run
            }
            admin.close();
        }
    }
}
