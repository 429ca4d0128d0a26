package dev.ctwatch.fetcher;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Runs the fetcher against {@link CrtShFake}, a topic of its own on the real broker (created here:
 * the broker does not create topics) and a watchlist file with one entry per fake scenario.
 */
public class FetcherTestResource implements QuarkusTestResourceLifecycleManager {
    static final String RUN = "r" + UUID.randomUUID().toString().substring(0, 8);
    static final String TOPIC = "ctwatch.test.fetcher." + RUN;
    /** How long the fetcher waits for crt.sh's answer to start; {@link CrtShFake}'s "slow" waits twice as long. */
    static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(5);

    static CrtShFake fake;
    static Path watchlistFile;

    /** The broker the tests use: KAFKA_BOOTSTRAP_SERVERS, as deploy/test.sh sets it. */
    static String bootstrap() {
        return Optional.ofNullable(System.getenv("KAFKA_BOOTSTRAP_SERVERS")).orElse("127.0.0.1:9092");
    }

    /** The watched domain of a scenario in this run, e.g. {@code limited.r1a2b3c4.test}. */
    static String domain(String scenario) {
        return scenario + "." + RUN + ".test";
    }

    @Override
    public Map<String, String> start() {
        try {
            fake = new CrtShFake();
            watchlistFile = Files.createTempDirectory("fetcher-test").resolve("watchlist.yaml");
            writeWatchlist(CrtShFake.scenarios());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (Admin client = Admin.create(admin)) {
            client.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1)))
                    .all()
                    .get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot create test topic " + TOPIC + " on " + bootstrap(), e);
        }
        return Map.of(
                "quarkus.rest-client.crtsh.url", fake.url(),
                "kafka.bootstrap.servers", bootstrap(),
                "fetcher.publish.topic", TOPIC,
                "fetcher.watchlist-file", watchlistFile.toString(),
                // above the test profile's 1 s: a loaded machine (and the first request of a cold JVM)
                // can take that long for an answer the fake gives at once; "slow" waits far longer
                "fetcher.crtsh.response-timeout", RESPONSE_TIMEOUT.toString());
    }

    static void writeWatchlist(List<String> scenarios) throws IOException {
        StringBuilder yaml = new StringBuilder("watchlist:\n");
        for (String scenario : scenarios) {
            yaml.append("  - domain: ").append(domain(scenario)).append('\n');
            if (scenario.equals("ok")) {
                yaml.append("    labels:\n      team: pki\n");
            }
        }
        Path tmp = watchlistFile.resolveSibling("watchlist.tmp");
        Files.writeString(tmp, yaml);
        // like a ConfigMap update: the new file appears at once, with a new modification time
        Files.move(tmp, watchlistFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void stop() {
        if (fake != null) {
            fake.close();
        }
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (Admin client = Admin.create(admin)) {
            client.deleteTopics(List.of(TOPIC)).all().get();
        } catch (Exception e) {
            // a leftover test topic is harmless
        }
    }
}
