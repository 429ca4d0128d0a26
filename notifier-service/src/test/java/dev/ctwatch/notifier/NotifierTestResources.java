package dev.ctwatch.notifier;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Real SMTP (GreenMail in this JVM, dynamic port) and a fresh topic pair on the real broker from
 * {@code KAFKA_BOOTSTRAP_SERVERS}, with a unique consumer group, so records of earlier runs on the
 * long-lived broker never reach this one.
 */
public class NotifierTestResources implements QuarkusTestResourceLifecycleManager {
    static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    static final String TOPIC = "ctwatch.certificates.audited.v1.test-" + RUN;
    static final String DLQ = TOPIC + ".dlq";

    static final String SECRET = "test-webhook-secret";

    // distinctive secrets that must never reach a log line (NotifierSecretLogTest)
    static final String LEAK_SLACK_TOKEN = "slackTok" + RUN + "Xq7";
    static final String LEAK_HOOK_TOKEN = "hookTok" + RUN + "Zp3";
    static final String LEAK_WEBHOOK_SECRET = "whsec-" + RUN + "-Kd9";
    static final String LEAK_SMTP_PASSWORD = "smtpPw-" + RUN + "-Vb2";
    static final String LEAK_DB_PASSWORD = "dbPw-" + RUN + "-Rt5";
    static final Path LOG = Path.of("target", "notifier-test.log");
    static String leakySlackUrl;
    static String leakyWebhookUrl;
    /** Whether {@link #LEAK_DB_PASSWORD} is the configured datasource password. */
    static boolean dbPasswordConfigured;

    static volatile GreenMail greenMail;
    static HttpReceiver http;
    static int smtpPort;
    static String bootstrap;

    @Override
    public Map<String, String> start() {
        greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
        greenMail.start();
        smtpPort = greenMail.getSmtp().getPort();

        bootstrap = System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092");
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1), new NewTopic(DLQ, 1, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create test topics on " + bootstrap, e);
        }

        try {
            http = new HttpReceiver();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }

        String channel = "mp.messaging.incoming.certificates-audited.";
        Map<String, String> config = new HashMap<>();
        secretsAndLogFile(config);
        // pinned here, above environment variables, so e.g. NOTIFIER_BACKFILL_DIGEST=false for the e2e
        // run cannot change these tests
        config.put("notifier.backfill.digest", "true");
        config.put("notifier.backfill.window", "PT3S");
        // route "web": team=web to Slack and a webhook (retry scenarios)
        config.put("notifier.routes.web.labels.team", "web");
        config.put("notifier.routes.web.slack-webhook-url", http.url("/slack/web"));
        config.put("notifier.routes.web.webhook-url", http.url("/hooks/web"));
        config.put("notifier.routes.web.webhook-secret", SECRET);
        // route "digest": team=digest to Slack (backfill digests)
        config.put("notifier.routes.digest.labels.team", "digest");
        config.put("notifier.routes.digest.slack-webhook-url", http.url("/slack/digest"));
        // route "gone": team=gone to a webhook that answers 404 (rejected, dead-lettered)
        config.put("notifier.routes.gone.labels.team", "gone");
        config.put("notifier.routes.gone.webhook-url", http.url("/hooks/gone"));
        config.put("notifier.routes.gone.webhook-secret", SECRET);
        config.putAll(Map.of(
                "quarkus.mailer.mock",
                "false", // dev/test default to the in-memory MockMailbox
                "quarkus.mailer.host",
                "127.0.0.1",
                "quarkus.mailer.port",
                String.valueOf(smtpPort),
                "quarkus.mailer.start-tls",
                "DISABLED",
                "kafka.bootstrap.servers",
                bootstrap,
                channel + "topic",
                TOPIC,
                channel + "dead-letter-queue.topic",
                DLQ,
                channel + "group.id",
                "ctwatch-notifier-test-" + RUN));
        return config;
    }

    /**
     * Route "leaky" (team=leaky): a Slack webhook whose path is a token, a webhook on a closed port
     * whose path is a token, and a signing secret; an SMTP login and a datasource password that are
     * configured but never needed; all distinctive. Every log line goes to {@link #LOG} too, with
     * the MDC's issuanceKey.
     */
    private static void secretsAndLogFile(Map<String, String> config) {
        try {
            Files.deleteIfExists(LOG);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        leakySlackUrl = http.url("/services/T0/B0/" + LEAK_SLACK_TOKEN);
        leakyWebhookUrl = "http://127.0.0.1:" + closedPort + "/hooks/" + LEAK_HOOK_TOKEN;
        config.put("notifier.routes.leaky.labels.team", "leaky");
        config.put("notifier.routes.leaky.slack-webhook-url", leakySlackUrl);
        config.put("notifier.routes.leaky.webhook-url", leakyWebhookUrl);
        config.put("notifier.routes.leaky.webhook-secret", LEAK_WEBHOOK_SECRET);
        // the fake SMTP server needs no login: the password is configured but never sent
        config.put("quarkus.mailer.username", "ctwatch-mailer");
        config.put("quarkus.mailer.password", LEAK_SMTP_PASSWORD);
        config.put("quarkus.mailer.login", "DISABLED");
        // PostgreSQL's JDBC driver lets a password in the URL win over the one handed to it, so the
        // database still sees the real password while the configured one (given to Agroal and the
        // driver like any datasource password) is distinctive
        String url = System.getenv("QUARKUS_DATASOURCE_JDBC_URL");
        String password = System.getenv("QUARKUS_DATASOURCE_PASSWORD");
        dbPasswordConfigured = url != null && password != null && !url.contains("?");
        if (dbPasswordConfigured) {
            config.put(
                    "quarkus.datasource.jdbc.url",
                    url + "?password=" + URLEncoder.encode(password, StandardCharsets.UTF_8));
            config.put("quarkus.datasource.password", LEAK_DB_PASSWORD);
        }
        config.put("quarkus.log.file.enabled", "true");
        config.put("quarkus.log.file.path", LOG.toString());
        config.put("quarkus.log.file.json.enabled", "false");
        config.put("quarkus.log.file.format", "%d{HH:mm:ss,SSS} %-5p [%c{3.}] (%t) issuanceKey=%X{issuanceKey} %s%e%n");
    }

    /** SMTP outage: stop the server; {@link #startSmtp()} brings it back on the same port. */
    static void stopSmtp() {
        greenMail.stop();
    }

    static void startSmtp() {
        GreenMail restarted = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        restarted.start();
        greenMail = restarted;
    }

    static Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(props);
    }

    @Override
    public void stop() {
        if (greenMail != null) {
            greenMail.stop();
        }
        if (http != null) {
            http.stop();
        }
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(TOPIC, DLQ)).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort: a leftover test topic is harmless, it has a unique name
        }
    }
}
