package dev.ctwatch.fetcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.CrtShRow;
import dev.ctwatch.events.EventJson;
import dev.ctwatch.events.EventSerializer;
import dev.ctwatch.fetcher.watchlist.WatchEntry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Not a test: a benchmark, excluded from the default run. One poll of a 200,000-row crt.sh answer
 * (streamed by {@link CrtShFake}) until every record is acknowledged, beside a plain KafkaProducer
 * sending the same records with the same settings (acks=all, idempotent), so the figure is a ratio.
 * Run: {@code deploy/test.sh -pl fetcher-service -Dtest=ThroughputBenchmarkTest -Dgroups=benchmark
 * -DexcludedGroups= -DargLine=-Xmx256m}.
 */
@QuarkusTest
@WithTestResource(FetcherTestResource.class)
@Tag("benchmark")
class ThroughputBenchmarkTest {
    private static final int ROWS = 200_000;

    @Inject
    Poller poller;

    @Test
    void fetcherRateAgainstRawProducerRate() throws Exception {
        WatchEntry huge =
                poller.watchlist().entry(FetcherTestResource.domain("huge")).orElseThrow();
        poller.forgetPublished();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        AtomicLong peak = new AtomicLong(memory.getHeapMemoryUsage().getUsed());
        Thread sampler = new Thread(() -> {
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
        sampler.start();
        long start = System.nanoTime();
        PollLog.Poll poll = poller.poll(huge);
        double fetcherSeconds = (System.nanoTime() - start) / 1e9;
        sampler.interrupt();
        sampler.join();
        assertThat(poll.published()).isEqualTo(ROWS);

        // the same records, built beforehand, through a bare producer
        String domain = huge.domain();
        long base = CrtShFake.idBase(domain);
        List<ProducerRecord<String, CertificateObserved>> records = new ArrayList<>(ROWS);
        Instant now = Instant.now();
        for (int i = 0; i < ROWS; i++) {
            CrtShRow row = EventJson.mapper().readValue(CrtShFake.row(domain, base + i, 0), CrtShRow.class);
            records.add(new ProducerRecord<>(
                    FetcherTestResource.TOPIC,
                    row.issuanceKey().toString(),
                    new CertificateObserved(row, List.of(huge.toMatch()), now, false)));
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, FetcherTestResource.bootstrap());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        start = System.nanoTime();
        try (KafkaProducer<String, CertificateObserved> producer =
                new KafkaProducer<>(props, new StringSerializer(), new EventSerializer())) {
            for (ProducerRecord<String, CertificateObserved> r : records) {
                producer.send(r);
            }
            producer.flush();
        }
        double rawSeconds = (System.nanoTime() - start) / 1e9;

        double fetcherRate = ROWS / fetcherSeconds;
        double rawRate = ROWS / rawSeconds;
        System.out.printf(
                "%nBENCHMARK fetcher: %d rows crt.sh -> acknowledged Kafka records in %.1f s = %.0f rows/s;"
                        + " peak heap used %d MB (max heap %d MB)%n"
                        + "BENCHMARK raw KafkaProducer, same records: %.1f s = %.0f records/s;"
                        + " fetcher/raw = %.2f%n",
                ROWS,
                fetcherSeconds,
                fetcherRate,
                peak.get() >> 20,
                Runtime.getRuntime().maxMemory() >> 20,
                rawSeconds,
                rawRate,
                fetcherRate / rawRate);
    }
}
