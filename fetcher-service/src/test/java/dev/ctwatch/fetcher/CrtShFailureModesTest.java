package dev.ctwatch.fetcher;

import static dev.ctwatch.fetcher.FetcherTestResource.domain;
import static io.restassured.RestAssured.given;
import static io.restassured.RestAssured.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ctwatch.events.CertificateObserved;
import dev.ctwatch.events.EventDeserializer;
import dev.ctwatch.fetcher.crtsh.CrtShAnswer;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The real service against a crt.sh that fails in each way crt.sh does, publishing to a real broker. */
@QuarkusTest
@WithTestResource(FetcherTestResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrtShFailureModesTest {

    @Inject
    Poller poller;

    @Test
    @Order(1)
    void asksCrtShTheDocumentedQueryWithOurUserAgentAndNoJsonAccept() {
        poll("ok");
        poll("retry-after");
        CrtShFake.Request plain = FetcherTestResource.fake.requests("ok").get(0);
        assertThat(plain.uri().getPath()).isEqualTo("/");
        assertThat(plain.params())
                .containsExactly(
                        Map.entry("identity", domain("ok")),
                        Map.entry("exclude", "expired"),
                        Map.entry("output", "json"));
        assertThat(plain.headers().get("User-agent")).containsExactly("ctwatch/0.1 (certificate transparency monitor)");
        assertThat(plain.headers().getOrDefault("Accept", List.of())).noneMatch(a -> a.contains("application/json"));
        CrtShFake.Request hyphenated =
                FetcherTestResource.fake.requests("retry-after").get(0);
        assertThat(hyphenated.params()).containsEntry("match", "ILIKE");
    }

    @Test
    @Order(2)
    void publishesMatchingRowsKeyedByIssuanceWithLabelsAndRemembersTheBackfill() {
        // the first poll of "ok" happened in the test before
        assertThat(entry("ok").getString("lastPoll.outcome")).isEqualTo("SUCCESS");
        List<ConsumerRecord<String, CertificateObserved>> records = recordsOf(domain("ok"), 3);
        assertThat(records).hasSize(3).allSatisfy(r -> {
            assertThat(r.key()).isEqualTo(r.value().row().issuanceKey().toString());
            assertThat(r.value().matches())
                    .singleElement()
                    .satisfies(m -> assertThat(m.labels()).containsEntry("team", "pki"));
            assertThat(r.value().fetchedAt()).isNotNull();
            // CloudEvents 1.0, binary mode, as the AsyncAPI contract lists them
            assertThat(header(r, "ce_specversion")).isEqualTo("1.0");
            assertThat(header(r, "ce_type")).isEqualTo("dev.ctwatch.certificate.observed.v1");
            assertThat(header(r, "ce_source")).isEqualTo("urn:ctwatch:fetcher-service");
            assertThat(java.util.UUID.fromString(header(r, "ce_id"))).isNotNull();
            assertThat(java.time.OffsetDateTime.parse(header(r, "ce_time")).toInstant())
                    .isEqualTo(r.value().fetchedAt());
            assertThat(header(r, "content-type")).isEqualTo("application/json");
        });
        assertThat(records).extracting(r -> header(r, "ce_id")).doesNotHaveDuplicates();
        // the look-alike row crt.sh also returns is not published
        assertThat(records).noneMatch(r -> r.value().row().nameValue().contains("not" + domain("ok")));
        // the first successful poll of an entry is its backfill, and that is stored
        assertThat(records).allMatch(r -> r.value().backfill());
        String stored = QuarkusTransaction.requiringNew().call(() -> {
            WatchState state = WatchState.findById(domain("ok"));
            return state.firstSuccessAt == null ? null : state.lastOutcome;
        });
        assertThat(stored).isEqualTo("SUCCESS");

        // a later poll is no backfill, even when the rows are published again (as after a restart)
        poller.forgetPublished();
        JsonPath second = poll("ok");
        assertThat(second.getBoolean("lastPoll.backfill")).isFalse();
        assertThat(recordsOf(domain("ok"), 6))
                .filteredOn(r -> !r.value().backfill())
                .hasSize(3);
    }

    @Test
    @Order(3)
    void readinessReportsTheBrokerAndThePublishingMetrics() {
        JsonPath ready = when().get("/q/health/ready").then().extract().jsonPath();
        assertThat(ready.getList("checks.name")).contains("Kafka connection health check", "crt.sh freshness");
        assertThat(ready.getString("checks.find { it.name == 'Kafka connection health check' }.status"))
                .isEqualTo("UP");
        // the publisher's producer reports to Prometheus like SmallRye's producers do elsewhere
        String metrics =
                when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).contains("kafka_producer_record_send_total", "client_id=\"fetcher-service-observed\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"limited", "gateway", "plain503", "slow", "reset", "cut"})
    @Order(3)
    void aTransientFailureIsRetriedWithBackoffUntilItSucceeds(String scenario) {
        JsonPath first = poll(scenario);
        assertThat(first.getString("lastPoll.outcome")).isEqualTo("UNAVAILABLE");
        assertThat(first.getBoolean("nextIsRetry")).isTrue();
        await().atMost(Duration.ofSeconds(15))
                .until(() -> "SUCCESS".equals(entry(scenario).getString("lastPoll.outcome")));
        assertThat(FetcherTestResource.fake.requests(scenario)).hasSize(2);
        assertThat(entry(scenario).getBoolean("nextIsRetry")).isFalse();
        // rows read before a body broke were published then; together every row is published once
        assertThat(recordsOf(domain(scenario), 3))
                .extracting(r -> r.value().row().id())
                .doesNotHaveDuplicates()
                .hasSize(3);
        assertThat(metrics()).contains("ctwatch_fetch_retries_total{entry=\"" + domain(scenario) + "\"}");
    }

    @Test
    @Order(4)
    void retryAfterIsHonoured() {
        await().atMost(Duration.ofSeconds(15))
                .until(() -> "SUCCESS".equals(entry("retry-after").getString("lastPoll.outcome")));
        List<CrtShFake.Request> requests = FetcherTestResource.fake.requests("retry-after");
        assertThat(requests).hasSize(2);
        // the test backoff is at most 0.2 s for a first retry; crt.sh asked for 1 s
        assertThat(Duration.between(requests.get(0).at(), requests.get(1).at())).isGreaterThan(Duration.ofMillis(900));
    }

    @Test
    @Order(5)
    void htmlWithStatus200IsAnInputErrorThatIsNotRetried() throws InterruptedException {
        JsonPath poll = poll("html");
        assertThat(poll.getString("lastPoll.outcome")).isEqualTo("INPUT_ERROR");
        assertThat(poll.getBoolean("nextIsRetry")).isFalse();
        Thread.sleep(1500);
        assertThat(FetcherTestResource.fake.requests("html")).hasSize(1);
        assertThat(metrics())
                .contains("ctwatch_fetch_polls_total{entry=\"" + domain("html") + "\",outcome=\"input_error\"}");
    }

    @Test
    @Order(6)
    void tenThousandIdentityRowsMarkThePollTruncatedAndAdviseASplit() {
        JsonPath poll = poll("capped");
        assertThat(poll.getString("lastPoll.outcome")).isEqualTo("SUCCESS");
        assertThat(poll.getBoolean("lastPoll.truncated")).isTrue();
        assertThat(poll.getString("advice")).contains("split this entry");
        assertThat(poll.getLong("lastPoll.published")).isEqualTo(100);
        assertThat(entry("capped").getBoolean("lastPoll.truncated")).isTrue();
        assertThat(metrics()).contains("ctwatch_fetch_truncated_polls_total{entry=\"" + domain("capped") + "\"} 1.0");
    }

    @Test
    @Order(7)
    void aChangedWatchlistFileIsPickedUpAndABrokenOneIgnored() throws Exception {
        List<String> scenarios = CrtShFake.scenarios();
        scenarios.add("added");
        FetcherTestResource.writeWatchlist(scenarios);
        await().atMost(Duration.ofSeconds(10)).until(() -> domains().contains(domain("added")));
        poll("added");
        String staleness = "ctwatch_fetch_last_success_timestamp_seconds{entry=\"" + domain("added") + "\"}";
        assertThat(metrics()).contains(staleness);
        java.nio.file.Files.writeString(FetcherTestResource.watchlistFile, "watchlist:\n  - domain: not a domain\n");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> metrics().contains("ctwatch_fetch_watchlist_reloads_total{outcome=\"failure\"}"));
        assertThat(domains()).contains(domain("added"), domain("ok"));
        FetcherTestResource.writeWatchlist(CrtShFake.scenarios());
        await().atMost(Duration.ofSeconds(10)).until(() -> !domains().contains(domain("added")));
        // nobody polls a removed entry: a staleness gauge left behind would fire its alert for good
        assertThat(metrics()).doesNotContain(staleness);
    }

    @Test
    @Order(8)
    void a200000RowAnswerIsStreamedAndEveryRowAcknowledged() {
        // called directly: the poll takes longer than an HTTP client waits
        PollLog.Poll poll = poller.poll(poller.watchlist().entry(domain("huge")).orElseThrow());
        assertThat(poll.outcome()).isEqualTo(CrtShAnswer.Outcome.SUCCESS);
        assertThat(poll.rows()).isEqualTo(200_000);
        assertThat(poll.published()).isEqualTo(200_000);
        assertThat(endOffsets()).isGreaterThanOrEqualTo(200_000);
    }

    private static JsonPath poll(String scenario) {
        return given().when()
                .post("/api/watchlist/{entry}/poll", domain(scenario))
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    /** The entry of a scenario as {@code GET /api/watchlist} shows it. */
    private static JsonPath entry(String scenario) {
        JsonPath list =
                when().get("/api/watchlist").then().statusCode(200).extract().jsonPath();
        return list.setRootPath("find { it.domain == '" + domain(scenario) + "' }");
    }

    private static List<String> domains() {
        return when().get("/api/watchlist").then().extract().jsonPath().getList("domain");
    }

    private static String metrics() {
        return when().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    private static long endOffsets() {
        try (KafkaConsumer<String, CertificateObserved> consumer = consumer()) {
            List<TopicPartition> partitions = partitions(consumer);
            return consumer.endOffsets(partitions).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
        }
    }

    /** Every record of the test topic whose row names the domain, once at least {@code expected} arrived. */
    private static List<ConsumerRecord<String, CertificateObserved>> recordsOf(String domain, int expected) {
        List<ConsumerRecord<String, CertificateObserved>> found = new ArrayList<>();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            found.clear();
            try (KafkaConsumer<String, CertificateObserved> consumer = consumer()) {
                List<TopicPartition> partitions = partitions(consumer);
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                    for (ConsumerRecord<String, CertificateObserved> r : consumer.poll(Duration.ofMillis(500))) {
                        if (r.value().matches().stream()
                                .anyMatch(m -> m.domain().equals(domain))) {
                            found.add(r);
                        }
                    }
                }
            }
            return found.size() >= expected;
        });
        return found;
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer) {
        return consumer.partitionsFor(FetcherTestResource.TOPIC).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .collect(Collectors.toList());
    }

    private static KafkaConsumer<String, CertificateObserved> consumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, FetcherTestResource.bootstrap());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(props, new StringDeserializer(), new EventDeserializer.Observed());
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
    }
}
