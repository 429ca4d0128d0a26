package dev.ctwatch.fetcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.events.WatchMatch;
import dev.ctwatch.fetcher.crtsh.CrtShSearch;
import dev.ctwatch.fetcher.watchlist.WatchEntry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Not a test: a benchmark, excluded from the default run. Polls of a 200,000-row crt.sh answer
 * (streamed by {@link CrtShFake}) until every record is acknowledged, alternating with a plain
 * KafkaProducer sending the same records (value, key, CloudEvents headers) with the same settings
 * (acks=all, idempotent), so the
 * figure is a ratio. The first poll runs cold (what a service sees after start-up) and is printed
 * on its own; then both sides are warm and measured in alternating rounds. The raw side builds its
 * records while sending (a record constructor, no JSON parse), so neither side holds 200,000
 * records in memory and the run fits in a 256 MB heap.
 * Run: {@code deploy/test.sh -pl fetcher-service -Dtest=ThroughputBenchmarkTest -Dgroups=benchmark
 * -DexcludedGroups= -DargLine=-Xmx256m}.
 */
@QuarkusTest
@WithTestResource(FetcherTestResource.class)
@Tag("benchmark")
class ThroughputBenchmarkTest {
    private static final int ROWS = 200_000;
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);

    @Inject
    Poller poller;

    @Inject
    CrtShSearch crtSh;

    @Test
    void fetcherRateAgainstRawProducerRate() throws Exception {
        WatchEntry huge =
                poller.watchlist().entry(FetcherTestResource.domain("huge")).orElseThrow();
        HeapPeak heap = HeapPeak.start();
        double cold = pollRate(huge);
        double[] fetcher = new double[ROUNDS];
        double[] raw = new double[ROUNDS];
        rawRate(huge); // warm-up of the bare producer
        for (int round = 0; round < ROUNDS; round++) {
            fetcher[round] = pollRate(huge);
            raw[round] = rawRate(huge);
        }
        long peakMb = heap.stop() >> 20;

        long start = System.nanoTime();
        long[] parsed = new long[1];
        crtSh.search(huge.domain(), row -> parsed[0]++);
        double parseRate = parsed[0] / ((System.nanoTime() - start) / 1e9);

        double fetcherMedian = median(fetcher);
        double rawMedian = median(raw);
        System.out.printf(
                "%nBENCHMARK fetcher: %,d rows crt.sh -> acknowledged Kafka records, warm: %s rows/s (median %,.0f);"
                        + " first poll after start-up (cold) %,.0f rows/s%n"
                        + "BENCHMARK raw KafkaProducer, same records, warm: %s records/s (median %,.0f)%n"
                        + "BENCHMARK fetcher/raw = %.2f (medians); cold first poll/raw = %.2f%n"
                        + "BENCHMARK crt.sh answer read and parsed, nothing published: %,.0f rows/s%n"
                        + "BENCHMARK peak heap used %d MB (max heap %d MB), fake crt.sh and raw producer included%n",
                ROWS,
                rates(fetcher),
                fetcherMedian,
                cold,
                rates(raw),
                rawMedian,
                fetcherMedian / rawMedian,
                cold / rawMedian,
                parseRate,
                peakMb,
                Runtime.getRuntime().maxMemory() >> 20);
    }

    /** One poll of the whole answer, as if the service had just started (nothing published yet). */
    private double pollRate(WatchEntry entry) {
        poller.forgetPublished();
        long start = System.nanoTime();
        PollLog.Poll poll = poller.poll(entry);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(poll.published()).isEqualTo(ROWS);
        return ROWS / seconds;
    }

    private static double rawRate(WatchEntry entry) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, FetcherTestResource.bootstrap());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        List<WatchMatch> matches = List.of(entry.toMatch());
        long base = CrtShFake.idBase(entry.domain());
        Instant now = Instant.now();
        // built once, as ObservedPublisher does; only ce_id differs per record
        var specVersion = header("ce_specversion", "1.0");
        var type = header("ce_type", ObservedPublisher.CE_TYPE);
        var source = header("ce_source", ObservedPublisher.CE_SOURCE);
        var time = header("ce_time", now.atOffset(java.time.ZoneOffset.UTC).toString());
        var contentType = header("content-type", "application/json");
        long start = System.nanoTime();
        try (KafkaProducer<String, CertificateObserved> producer =
                new KafkaProducer<>(props, new StringSerializer(), new EventSerializer())) {
            for (int i = 0; i < ROWS; i++) {
                CrtShRow row = CrtShFake.rowRecord(entry.domain(), base + i);
                // the same record on the wire: value, key and the contract's CloudEvents headers
                producer.send(new ProducerRecord<>(
                        FetcherTestResource.TOPIC,
                        null,
                        row.issuanceKey().toString(),
                        new CertificateObserved(row, matches, now, false),
                        List.of(
                                specVersion,
                                header("ce_id", ObservedPublisher.randomUuid()),
                                type,
                                source,
                                time,
                                contentType)));
            }
            producer.flush();
        }
        return ROWS / ((System.nanoTime() - start) / 1e9);
    }

    private static org.apache.kafka.common.header.Header header(String name, String value) {
        return new org.apache.kafka.common.header.internals.RecordHeader(
                name, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String rates(double[] values) {
        return Arrays.stream(values).mapToObj(v -> String.format("%,.0f", v)).collect(Collectors.joining(" / "));
    }

    /** Samples used heap every 10 ms; the peak includes garbage not yet collected, so it is an upper bound. */
    private static final class HeapPeak {
        private final AtomicLong peak = new AtomicLong();
        private final Thread sampler;

        private HeapPeak() {
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            sampler = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sampler.setDaemon(true);
        }

        static HeapPeak start() {
            System.gc();
            HeapPeak heap = new HeapPeak();
            heap.sampler.start();
            return heap;
        }

        long stop() throws InterruptedException {
            sampler.interrupt();
            sampler.join();
            return peak.get();
        }
    }
}
