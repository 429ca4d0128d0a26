package dev.ctwatch.e2e;

import static dev.ctwatch.e2e.TestEnvironment.createDatabase;
import static dev.ctwatch.e2e.TestEnvironment.dbPassword;
import static dev.ctwatch.e2e.TestEnvironment.dbUser;
import static dev.ctwatch.e2e.TestEnvironment.required;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The whole pipeline on real components: the four packaged services as separate JVMs, a real
 * Kafka broker, the real PostgreSQL, NSD for DNS, GreenMail for SMTP; only crt.sh is a stand-in.
 *
 * <p>Each run gets its own topics, consumer groups and database, so a long-lived broker and
 * database (a developer's, or a running pipeline) never leak records into it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineEndToEndTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final String RECIPIENT = "secops@ctwatch.test";
    private static final List<String> WATCHED =
            List.of("github.com", "eesp.ch", "certificate.transparency.dev", "cryptography.io", "ctwatch-e2e.test");

    private final String run = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
    private final Path work = REPO.resolve("e2e/target/" + run);
    private final List<ServiceProcess> services = new ArrayList<>();
    private GreenMail smtp;
    private CrtShStandIn crtSh;
    private Path dnsDir;
    private String jdbcUrl;
    private ServiceProcess fetcher;
    private Map<String, String> fetcherProperties;
    private Path identities;
    private Path staged;

    @BeforeAll
    void startPipeline() throws Exception {
        String bootstrap = required("KAFKA_BOOTSTRAP_SERVERS");
        Files.createDirectories(work);

        GeneratedIssuance pair = GeneratedIssuance.create(List.of("www.ctwatch-e2e.test", "ctwatch-e2e.test"));
        Path data = standInData(pair);
        // the first poll of an entry is its backfill; it sees an empty answer so that the
        // certificates below arrive later, as the new certificates this test is about
        identities = data.resolve("identity");
        staged = work.resolve("identity-staged");
        Files.move(identities, staged);
        Files.createDirectories(identities);
        crtSh = new CrtShStandIn(0, data);

        smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
        smtp.start();

        int dnsPort = freePort();
        dnsDir = work.resolve("dns");
        exec(
                REPO.resolve("deploy/dns.sh").toString(),
                "start",
                dnsDir.toString(),
                String.valueOf(dnsPort),
                REPO.resolve("deploy/dns-zones").toString());

        jdbcUrl = createDatabase("ctwatch_" + run.replace('-', '_'));
        Map<String, String> topics = createTopics(bootstrap);

        Map<String, String> common = new LinkedHashMap<>();
        common.put("kafka.bootstrap.servers", bootstrap);
        common.put("quarkus.http.port", "0");
        common.put("quarkus.datasource.jdbc.url", jdbcUrl);
        common.put("quarkus.datasource.username", dbUser());
        common.put("quarkus.datasource.password", dbPassword());

        Map<String, String> dedup =
                withChannels(common, topics, "in:certificates-observed", "out:certificates-discovered");
        dedup.put("quarkus.rest-client.crtsh.url", crtSh.url());
        dedup.put("dedup.download.min-interval", "PT0.1S");
        Map<String, String> audit =
                withChannels(common, topics, "in:certificates-discovered", "out:certificates-audited");
        audit.put("caa-audit.dns.servers", "127.0.0.1:" + dnsPort);
        Map<String, String> notifier = withChannels(common, topics, "in:certificates-audited");
        notifier.put("quarkus.mailer.host", "127.0.0.1");
        notifier.put("quarkus.mailer.port", String.valueOf(smtp.getSmtp().getPort()));
        notifier.put("quarkus.mailer.start-tls", "DISABLED");
        notifier.put("notifier.mail.to", RECIPIENT);
        fetcherProperties = withChannels(common, topics);
        // the fetcher publishes with a plain producer, not a messaging channel
        fetcherProperties.put("fetcher.publish.topic", topics.get("out:certificates-observed"));
        fetcherProperties.put("quarkus.rest-client.crtsh.url", crtSh.url());
        fetcherProperties.put("fetcher.poll-interval", "2s");
        fetcherProperties.put("fetcher.initial-delay", "3s");
        for (int i = 0; i < WATCHED.size(); i++) {
            fetcherProperties.put("fetcher.watchlist[" + i + "].domain", WATCHED.get(i));
        }

        services.add(new ServiceProcess("notifier-service", notifier, work).start());
        services.add(new ServiceProcess("caa-audit-service", audit, work).start());
        services.add(new ServiceProcess("dedup-service", dedup, work).start());
        fetcher = new ServiceProcess("fetcher-service", fetcherProperties, work).start();
        services.add(fetcher);
    }

    @Test
    void oneMailPerIssuanceAndNothingOnLaterPolls() throws Exception {
        // github.com (a look-alike row is filtered out), eesp.ch, certificate.transparency.dev,
        // cryptography.io (two issuances), ctwatch-e2e.test (precertificate + final certificate: one issuance)
        int issuances = 6;
        // the certificates appear only once the fetcher has recorded the first poll of every entry:
        // the stand-in counts a request before it reads the answer, and the fetcher takes the first
        // successful poll for the backfill, so going by the count alone could digest them as backfill
        await().atMost(Duration.ofSeconds(120))
                .ignoreExceptions() // the fetcher may not listen yet
                .until(this::everyEntryPolledSuccessfully);
        try (Stream<Path> files = Files.list(staged)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, identities.resolve(file.getFileName()));
            }
        }
        awaitMails(issuances, Duration.ofSeconds(150));
        List<MimeMessage> mails = Arrays.asList(smtp.getReceivedMessages());
        List<String> subjects = new ArrayList<>();
        for (MimeMessage mail : mails) {
            subjects.add(mail.getSubject());
            assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly(RECIPIENT);
        }
        assertThat(subjects)
                .anySatisfy(s ->
                        assertThat(s).contains("Possible CAA non-compliance").contains("eesp.ch"));
        assertThat(subjects).anySatisfy(s -> assertThat(s).contains("github.com"));
        assertThat(subjects).noneSatisfy(s -> assertThat(s).contains("notgithub.com"));
        assertThat(subjects.stream().filter(s -> s.contains("ctwatch-e2e.test")))
                .hasSize(1);

        String pairMail = body(mails.stream()
                .filter(m -> subject(m).contains("ctwatch-e2e.test"))
                .findFirst()
                .orElseThrow());
        assertThat(pairMail).contains("https://crt.sh/?id=7100000001");

        // the pair's final certificate is recorded as a twin, not mailed; dedup may still be recording
        // it, or committing an issuance whose event went out before the commit, when the last mail lands
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(count("select count(*) from dedup.crtsh_entry")).isEqualTo(7);
            assertThat(count("select count(*) from dedup.issuance")).isEqualTo(issuances);
        });

        // what the services really wrote matches the published schemas, with CloudEvents headers
        assertTopicsMatchTheirSchemas();

        // every service answers health and metrics
        for (ServiceProcess service : services) {
            assertThat(get(service, "/q/health/ready")).contains("\"status\": \"UP\"");
            assertThat(get(service, "/q/metrics")).contains("ctwatch_");
        }

        // later polls of a running fetcher publish nothing new
        int polls = crtSh.identityRequests("github.com");
        await().atMost(Duration.ofSeconds(30)).until(() -> crtSh.identityRequests("github.com") >= polls + 2);
        assertThat(smtp.getReceivedMessages()).hasSize(issuances);

        // a restarted fetcher republishes every row; dedup absorbs them all
        fetcher.close();
        int downloads = crtSh.downloads();
        fetcher = new ServiceProcess("fetcher-service", fetcherProperties, work).start();
        services.add(fetcher);
        int before = crtSh.identityRequests("ctwatch-e2e.test");
        // a JVM start on a loaded machine, the initial delay and two poll intervals
        await().atMost(Duration.ofSeconds(120)).until(() -> crtSh.identityRequests("ctwatch-e2e.test") >= before + 2);
        Thread.sleep(3000);
        assertThat(smtp.getReceivedMessages()).hasSize(issuances);
        assertThat(crtSh.downloads())
                .as("known crt.sh ids are not downloaded again")
                .isEqualTo(downloads);
    }

    /** Whether the fetcher reports a successful poll of every watched entry (its backfill). */
    private boolean everyEntryPolledSuccessfully() throws Exception {
        List<String> polled = new ArrayList<>();
        for (JsonNode entry : new ObjectMapper().readTree(get(fetcher, "/api/watchlist"))) {
            if (entry.hasNonNull("lastSuccessAt")) {
                polled.add(entry.get("domain").asText());
            }
        }
        return polled.containsAll(WATCHED);
    }

    private void awaitMails(int expected, Duration timeout) {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(500)).until(() -> {
                for (ServiceProcess service : services) {
                    if (!service.alive() && service != fetcher) {
                        throw new AssertionError("a service died:\n" + service.logTail());
                    }
                }
                return smtp.getReceivedMessages().length >= expected;
            });
        } catch (RuntimeException | AssertionError e) {
            StringBuilder logs = new StringBuilder();
            for (ServiceProcess s : services) {
                logs.append("\n--- ").append(s).append('\n').append(s.logTail());
            }
            throw new AssertionError(
                    "expected " + expected + " mails, got " + smtp.getReceivedMessages().length + logs, e);
        }
    }

    private void assertTopicsMatchTheirSchemas() {
        var factory = com.networknt.schema.JsonSchemaFactory.getInstance(
                com.networknt.schema.SpecVersion.VersionFlag.V202012,
                builder -> builder.schemaMappers(
                        mappers -> mappers.mapPrefix("https://ctwatch.dev/schemas/", "classpath:schemas/")));
        Map<String, String> schemas = Map.of(
                "observed", "certificate-observed",
                "discovered", "certificate-discovered",
                "audited", "certificate-audited");
        Properties config = new Properties();
        config.put("bootstrap.servers", required("KAFKA_BOOTSTRAP_SERVERS"));
        config.put("group.id", run + "-schema-check");
        config.put("auto.offset.reset", "earliest");
        ObjectMapper json = new ObjectMapper();
        for (var entry : schemas.entrySet()) {
            String topic = run + ".ctwatch.certificates." + entry.getKey() + ".v1";
            var schema = factory.getSchema(com.networknt.schema.SchemaLocation.of(
                    "https://ctwatch.dev/schemas/" + entry.getValue() + ".v1.schema.json"));
            List<String> problems = new ArrayList<>();
            int[] seen = {0};
            try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                    config,
                    new org.apache.kafka.common.serialization.StringDeserializer(),
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                consumer.subscribe(List.of(topic));
                // the first poll waits for the group to form, which a loaded machine takes its time over
                long deadline = System.currentTimeMillis() + 60_000;
                int idle = 0;
                while (System.currentTimeMillis() < deadline && (seen[0] == 0 || idle < 3)) {
                    var records = consumer.poll(Duration.ofMillis(500));
                    idle = records.isEmpty() ? idle + 1 : 0;
                    for (var r : records) {
                        seen[0]++;
                        try {
                            schema.validate(json.readTree(r.value()))
                                    .forEach(m -> problems.add(topic + "@" + r.offset() + ": " + m.getMessage()));
                        } catch (IOException e) {
                            problems.add(topic + "@" + r.offset() + ": not JSON: " + e.getMessage());
                        }
                        if (r.headers().lastHeader("ce_type") == null
                                || r.headers().lastHeader("ce_id") == null) {
                            problems.add(topic + "@" + r.offset() + ": no CloudEvents ce_type/ce_id header");
                        }
                    }
                }
            }
            assertThat(seen[0]).as("records on %s", topic).isPositive();
            assertThat(problems).as("schema violations on %s", topic).isEmpty();
        }
    }

    /** The service's own channels, pointed at this run's topics and consumer groups. */
    private Map<String, String> withChannels(
            Map<String, String> common, Map<String, String> topics, String... channels) {
        Map<String, String> properties = new LinkedHashMap<>(common);
        for (String channel : channels) {
            String topic = topics.get(channel);
            String name = channel.substring(channel.indexOf(':') + 1);
            if (channel.startsWith("in:")) {
                properties.put("mp.messaging.incoming." + name + ".topic", topic);
                properties.put("mp.messaging.incoming." + name + ".group.id", run + "-" + name);
                properties.put("mp.messaging.incoming." + name + ".dead-letter-queue.topic", topic + ".dlq");
            } else {
                properties.put("mp.messaging.outgoing." + name + ".topic", topic);
            }
        }
        return properties;
    }

    private Path standInData(GeneratedIssuance pair) throws IOException {
        Path data = work.resolve("crtsh");
        Path source = REPO.resolve("deploy/crtsh-standin");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = data.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        // the generated pair: crt.sh shows a precertificate and its certificate as two rows
        DateTimeFormatter crtShTime =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
        List<Map<String, Object>> rows = new ArrayList<>();
        long[] ids = {7100000001L, 7100000002L};
        String[] pems = {pair.precertPem(), pair.finalPem()};
        for (int i = 0; i < 2; i++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("issuer_ca_id", 990001);
            row.put("issuer_name", pair.issuerName());
            row.put("common_name", pair.names().get(0));
            row.put("name_value", String.join("\n", pair.names()));
            row.put("id", ids[i]);
            row.put("entry_timestamp", crtShTime.format(pair.notBefore().plusSeconds(20L * i)) + ".1");
            row.put("not_before", crtShTime.format(pair.notBefore()));
            row.put("not_after", crtShTime.format(pair.notAfter()));
            row.put(
                    "serial_number",
                    i == 0 ? pair.crtShSerial() : pair.crtShSerial().toUpperCase());
            row.put("result_count", 3);
            rows.add(row);
            Files.writeString(data.resolve("pem/" + ids[i] + ".pem"), pems[i]);
        }
        Files.writeString(data.resolve("identity/ctwatch-e2e.test.json"), new ObjectMapper().writeValueAsString(rows));
        return data;
    }

    private Map<String, String> createTopics(String bootstrap) throws Exception {
        Map<String, String> topics = new LinkedHashMap<>();
        topics.put("out:certificates-observed", run + ".ctwatch.certificates.observed.v1");
        topics.put("in:certificates-observed", run + ".ctwatch.certificates.observed.v1");
        topics.put("out:certificates-discovered", run + ".ctwatch.certificates.discovered.v1");
        topics.put("in:certificates-discovered", run + ".ctwatch.certificates.discovered.v1");
        topics.put("out:certificates-audited", run + ".ctwatch.certificates.audited.v1");
        topics.put("in:certificates-audited", run + ".ctwatch.certificates.audited.v1");
        List<NewTopic> newTopics = new ArrayList<>();
        for (String topic : topics.values().stream().distinct().toList()) {
            newTopics.add(new NewTopic(topic, 3, (short) 1));
            newTopics.add(new NewTopic(topic + ".dlq", 1, (short) 1));
        }
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(config)) {
            admin.createTopics(newTopics).all().get();
        }
        return topics;
    }

    private int count(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl, dbUser(), dbPassword());
                ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String subject(MimeMessage m) {
        try {
            return m.getSubject();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The decoded text of every text part, whatever the transfer encoding. */
    private static String body(jakarta.mail.Part part) {
        try {
            Object content = part.getContent();
            if (content instanceof jakarta.mail.Multipart multipart) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < multipart.getCount(); i++) {
                    text.append(body(multipart.getBodyPart(i)));
                }
                return text.toString();
            }
            return content instanceof String s ? s : "";
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String get(ServiceProcess service, String path) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        var request = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + service.httpPort() + path))
                .build();
        return client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
        }
    }

    @AfterAll
    void stopPipeline() throws Exception {
        for (ServiceProcess service : services) {
            service.close();
        }
        if (crtSh != null) {
            crtSh.close();
        }
        if (smtp != null) {
            smtp.stop();
        }
        if (dnsDir != null) {
            exec(REPO.resolve("deploy/dns.sh").toString(), "stop", dnsDir.toString());
        }
        if (jdbcUrl != null) {
            TestEnvironment.dropDatabases(List.of(jdbcUrl));
        }
    }
}
