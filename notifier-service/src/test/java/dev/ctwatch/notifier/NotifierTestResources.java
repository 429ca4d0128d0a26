package dev.ctwatch.notifier;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
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
