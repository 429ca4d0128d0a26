package dev.ctwatch.dedup;

import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Fresh topics on the real broker from {@code KAFKA_BOOTSTRAP_SERVERS} (unique per run, so a
 * long-lived broker's old records never reach the test) and a crt.sh download stand-in whose
 * answers each test sets.
 */
public class DedupTestResources implements QuarkusTestResourceLifecycleManager {
    public static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    public static final String OBSERVED = "ctwatch.certificates.observed.v1.test-" + RUN;
    static final String DISCOVERED = "ctwatch.certificates.discovered.v1.test-" + RUN;
    static final String DLQ = OBSERVED + ".dlq";

    /** crt.sh id → PEM served for {@code ?d=<id>}. */
    public static final Map<Long, String> PEMS = new ConcurrentHashMap<>();
    /** crt.sh id → HTTP status to answer instead of the PEM (e.g. 503 for an outage). */
    static final Map<Long, Integer> FAILURES = new ConcurrentHashMap<>();
    /** crt.sh id → milliseconds crt.sh takes before it answers. */
    static final Map<Long, Long> DELAYS = new ConcurrentHashMap<>();
    /** crt.sh id → number of download requests. */
    static final Map<Long, AtomicInteger> DOWNLOADS = new ConcurrentHashMap<>();

    static String bootstrap;
    private HttpServer crtSh;

    @Override
    public Map<String, String> start() {
        bootstrap = System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092");
        try (Admin admin = admin()) {
            admin.createTopics(List.of(
                            new NewTopic(OBSERVED, 3, (short) 1),
                            new NewTopic(DISCOVERED, 3, (short) 1),
                            new NewTopic(DLQ, 1, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create test topics on " + bootstrap, e);
        }
        try {
            // the JDK server writes headers and body apart; with Nagle on, each answer waits ~40 ms for
            // the client's delayed ACK, which real crt.sh does not make anyone wait
            System.setProperty("sun.net.httpserver.nodelay", "true");
            crtSh = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        crtSh.createContext("/", exchange -> {
            String query = exchange.getRequestURI().getQuery();
            long id = Long.parseLong(query.substring(query.indexOf("d=") + 2));
            DOWNLOADS.computeIfAbsent(id, i -> new AtomicInteger()).incrementAndGet();
            Long delay = DELAYS.get(id);
            if (delay != null) {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Integer failure = FAILURES.get(id);
            String pem = PEMS.get(id);
            int status = failure != null ? failure : pem == null ? 404 : 200;
            byte[] body = (status == 200 ? pem : "").getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", status == 200 ? "application/pkix-cert" : "text/plain");
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        crtSh.start();

        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", bootstrap);
        config.put(
                "quarkus.rest-client.crtsh.url",
                "http://127.0.0.1:" + crtSh.getAddress().getPort());
        String in = "mp.messaging.incoming.certificates-observed.";
        config.put(in + "topic", OBSERVED);
        config.put(in + "group.id", "dedup-test-" + RUN);
        config.put(in + "dead-letter-queue.topic", DLQ);
        config.put("mp.messaging.outgoing.certificates-discovered.topic", DISCOVERED);
        config.put("mp.messaging.outgoing.observed-dead-letters.topic", DLQ);
        config.put("dedup.download.min-interval", "PT0S");
        config.put("dedup.download.retry-delay", "PT1S");
        config.put("dedup.download.pending-interval", "1s");
        // short, so that a test can make a batch outlast it with a few slow downloads
        config.put("dedup.download.batch-budget", "PT2S");
        // tests run the backfill completion themselves (BackfillCompletionTest), so that no other
        // test's backfill rows are downloaded behind its back
        config.put("dedup.backfill-completion.enabled", "false");
        config.put("quarkus.kafka.devservices.enabled", "false");
        return config;
    }

    public static Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(props);
    }

    @Override
    public void stop() {
        if (crtSh != null) {
            crtSh.stop(0);
        }
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(OBSERVED, DISCOVERED, DLQ)).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort: a leftover topic has a unique name and harms nobody
        }
    }
}
