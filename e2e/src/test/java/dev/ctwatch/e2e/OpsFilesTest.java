package dev.ctwatch.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The operations files of issue #7, checked without a cluster, Prometheus or Docker (promtool
 * checks the PromQL itself: deploy/check-ops.sh): the PrometheusRule carries exactly the groups of
 * deploy/prometheus/rules.yml, every metric the rules and the dashboard use exists in a service,
 * the dashboard's structure, the ServiceMonitor, and the docker-compose file with its Prometheus
 * configuration.
 */
class OpsFilesTest {

    private static final Path ROOT = findRoot();
    private static final List<String> SERVICES =
            List.of("fetcher-service", "dedup-service", "caa-audit-service", "notifier-service");
    private static final Pattern METRIC = Pattern.compile("\\b((?:ctwatch|kafka_consumer|kafka_producer)_[a-z0-9_]+)");

    @Test
    void prometheusRuleCarriesTheGroupsOfTheTestedRuleFile() throws IOException {
        Map<String, Object> plain = yaml("deploy/prometheus/rules.yml");
        Map<String, Object> rule = yaml("k8s/base/prometheus-rule.yaml");
        assertThat(rule)
                .containsEntry("apiVersion", "monitoring.coreos.com/v1")
                .containsEntry("kind", "PrometheusRule");
        assertThat(map(rule.get("spec")).get("groups"))
                .as("k8s/base/prometheus-rule.yaml spec.groups must equal deploy/prometheus/rules.yml groups")
                .isEqualTo(plain.get("groups"));
        assertThat(text("k8s/base/kustomization.yaml")).contains("- prometheus-rule.yaml", "- service-monitor.yaml");
    }

    @Test
    void everyAlertHasSeverityAnnotationsAndUnitTests() throws IOException {
        String tests = text("deploy/prometheus/rules_test.yml");
        List<String> alerts = new ArrayList<>();
        for (Object group : list(yaml("deploy/prometheus/rules.yml").get("groups"))) {
            for (Object r : list(map(group).get("rules"))) {
                Map<String, Object> rule = map(r);
                String alert = (String) rule.get("alert");
                alerts.add(alert);
                assertThat(map(rule.get("labels")).get("severity")).as(alert).isIn("critical", "warning", "info");
                assertThat(map(rule.get("annotations"))).as(alert).containsKeys("summary", "description");
                assertThat(tests).as("a promtool test of " + alert).contains("alertname: " + alert + "\n");
            }
        }
        assertThat(alerts)
                .contains(
                        "CtwatchCaaFinding",
                        "CtwatchSerialReuse",
                        "CtwatchCrtShPollsStale",
                        "CtwatchCrtShErrorRate",
                        "CtwatchDeadLetters",
                        "CtwatchConsumerLagGrowing",
                        "CtwatchNotificationsLost",
                        "CtwatchServiceDown",
                        "CtwatchPendingDownloadsGrowing",
                        "CtwatchPendingDownloadWaitingLong",
                        "CtwatchBackfillCompletionStalled")
                .doesNotHaveDuplicates();
    }

    /**
     * dedup's queue gauges count a PostgreSQL table (or give its oldest row's age), so every replica
     * reports the same number: a sum over replicas would multiply it by their count.
     */
    @Test
    void tableCountGaugesAreNotSummedOverReplicas() throws IOException {
        Pattern summed = Pattern.compile("sum\\s*(by\\s*\\([^)]*\\)\\s*)?\\(\\s*"
                + "(ctwatch_dedup_pending_downloads(_oldest_seconds)?|ctwatch_dedup_backfill_pending)\\b");
        for (String file : List.of("deploy/prometheus/rules.yml", "deploy/grafana/dashboards/ctwatch.json")) {
            String text = text(file);
            assertThat(text)
                    .as(file)
                    .contains(
                            "ctwatch_dedup_pending_downloads",
                            "ctwatch_dedup_pending_downloads_oldest_seconds",
                            "ctwatch_dedup_backfill_pending");
            assertThat(summed.matcher(text).find())
                    .as(file + " sums a table-count gauge")
                    .isFalse();
        }
        assertThat(summed.matcher("sum by (job) (ctwatch_dedup_backfill_pending)")
                        .find())
                .as("the pattern finds a sum")
                .isTrue();
        assertThat(summed.matcher("sum(ctwatch_dedup_pending_downloads_oldest_seconds)")
                        .find())
                .as("the pattern finds a sum of the age gauge")
                .isTrue();
    }

    @Test
    void rulesAndDashboardUseOnlyMetricsTheServicesExpose() throws IOException {
        Set<String> known = knownMetrics();
        Set<String> used = new TreeSet<>();
        used.addAll(metricsIn(text("deploy/prometheus/rules.yml")));
        used.addAll(metricsIn(text("deploy/grafana/dashboards/ctwatch.json")));
        Set<String> unknown = used.stream()
                .filter(m -> m.startsWith("ctwatch_"))
                .filter(m -> !known.contains(normalise(m)))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(unknown)
                .as("ctwatch_* metrics used by rules or dashboard that no service registers")
                .isEmpty();
        // the Kafka client metrics the alerts rely on, named as Quarkus' Micrometer binder exports them
        assertThat(used).contains("kafka_consumer_fetch_manager_records_lag_max");
    }

    @Test
    void dashboardIsAClassicSchema39DashboardWithADatasourceVariable() throws IOException {
        JsonNode dash = new ObjectMapper()
                .readTree(ROOT.resolve("deploy/grafana/dashboards/ctwatch.json").toFile());
        assertThat(dash.path("schemaVersion").asInt()).isEqualTo(39);
        assertThat(dash.path("uid").asText()).isNotBlank();
        assertThat(dash.has("__inputs")).as("no export-for-sharing keys").isFalse();
        JsonNode variable = dash.path("templating").path("list").get(0);
        assertThat(variable.path("name").asText()).isEqualTo("datasource");
        assertThat(variable.path("type").asText()).isEqualTo("datasource");
        assertThat(variable.path("query").asText()).isEqualTo("prometheus");

        Set<Integer> ids = new HashSet<>();
        StringBuilder exprs = new StringBuilder();
        for (JsonNode panel : dash.path("panels")) {
            String title = panel.path("title").asText();
            assertThat(ids.add(panel.path("id").asInt()))
                    .as("unique id: " + title)
                    .isTrue();
            JsonNode grid = panel.path("gridPos");
            assertThat(grid.path("x").asInt() + grid.path("w").asInt())
                    .as("gridPos of " + title)
                    .isBetween(1, 24);
            assertThat(grid.path("h").asInt()).as("gridPos.h of " + title).isPositive();
            if (panel.path("type").asText().equals("row")) {
                continue;
            }
            assertThat(panel.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
            assertThat(panel.path("targets")).as("targets of " + title).isNotEmpty();
            for (JsonNode target : panel.path("targets")) {
                assertThat(target.path("expr").asText()).as(title).isNotBlank();
                assertThat(target.path("datasource").path("uid").asText())
                        .as(title)
                        .isEqualTo("${datasource}");
                exprs.append(target.path("expr").asText()).append('\n');
            }
        }
        // the flow, stage by stage
        assertThat(exprs.toString())
                .contains(
                        "ctwatch_fetch_rows_published_total",
                        "ctwatch_fetch_polls_total",
                        "ctwatch_fetch_last_success_timestamp_seconds",
                        "ctwatch_dedup_rows_total",
                        "ctwatch_audit_certificates_total",
                        "ctwatch_audit_findings_total",
                        "ctwatch_notify_deliveries_total",
                        "ctwatch_dedup_dead_letters_total",
                        "ctwatch_notify_dead_letters_total",
                        "kafka_consumer_fetch_manager_records_lag_max",
                        "max(ctwatch_dedup_pending_downloads)",
                        "max(ctwatch_dedup_pending_downloads_oldest_seconds)",
                        "max(ctwatch_dedup_backfill_pending)",
                        "ctwatch_dedup_backfill_completed_total",
                        "up{");
    }

    @Test
    void serviceMonitorSelectsTheFourServicesOnTheirHttpPort() throws IOException {
        Map<String, Object> monitor = yaml("k8s/base/service-monitor.yaml");
        assertThat(monitor)
                .containsEntry("apiVersion", "monitoring.coreos.com/v1")
                .containsEntry("kind", "ServiceMonitor");
        Map<String, Object> spec = map(monitor.get("spec"));
        Map<String, Object> labels = map(map(spec.get("selector")).get("matchLabels"));
        assertThat(labels).isEqualTo(Map.of("app.kubernetes.io/part-of", "ctwatch"));
        Map<String, Object> endpoint = map(list(spec.get("endpoints")).get(0));
        assertThat(endpoint).containsEntry("port", "http").containsEntry("path", "/q/metrics");
        for (String service : SERVICES) {
            Map<String, Object> svc = documents("k8s/base/" + service + ".yaml").stream()
                    .filter(d -> "Service".equals(d.get("kind")))
                    .findFirst()
                    .orElseThrow();
            assertThat(map(map(svc.get("metadata")).get("labels")))
                    .as(service)
                    .containsAllEntriesOf(labels)
                    .containsEntry("app.kubernetes.io/name", service);
            assertThat(list(map(svc.get("spec")).get("ports")))
                    .as(service)
                    .anySatisfy(p -> assertThat(map(p)).containsEntry("name", "http"));
        }
    }

    @Test
    void composeFileBuildsTheServicesAndMountsFilesThatExist() throws IOException {
        Path deploy = ROOT.resolve("deploy");
        Map<String, Object> services = map(yaml("deploy/docker-compose.yml").get("services"));
        assertThat(services)
                .containsKeys("kafka", "postgres", "mail-catcher", "prometheus", "grafana")
                .containsKeys(SERVICES.toArray(String[]::new));
        assertThat(String.valueOf(map(services.get("postgres")).get("image"))).startsWith("postgres:15");
        assertThat(String.valueOf(map(services.get("kafka")).get("image"))).startsWith("apache/kafka:");
        int port = 8081;
        for (String service : SERVICES) {
            Map<String, Object> svc = map(services.get(service));
            Map<String, Object> build = map(svc.get("build"));
            assertThat(build).containsEntry("context", "../" + service);
            Path dockerfile = deploy.resolve((String) build.get("context")).resolve((String) build.get("dockerfile"));
            assertThat(dockerfile).as(service).isRegularFile();
            assertThat(list(svc.get("ports"))).as(service).containsExactly(port + ":" + port);
            Map<String, Object> env = map(svc.get("environment"));
            assertThat(env).as(service).containsKeys("KAFKA_BOOTSTRAP_SERVERS", "QUARKUS_DATASOURCE_JDBC_URL");
            port++;
        }
        for (Map.Entry<String, Object> e : services.entrySet()) {
            Object volumes = map(e.getValue()).get("volumes");
            for (Object v : volumes == null ? List.of() : list(volumes)) {
                String source = String.valueOf(v).split(":")[0];
                if (source.startsWith("./")) {
                    assertThat(deploy.resolve(source))
                            .as(e.getKey() + " mounts " + source)
                            .exists();
                }
            }
        }
    }

    @Test
    void composePrometheusScrapesTheFourServicesAndLoadsTheRules() throws IOException {
        Map<String, Object> config = yaml("deploy/prometheus/prometheus.yml");
        assertThat(list(config.get("rule_files"))).containsExactly("rules.yml");
        Map<String, String> targets = new java.util.LinkedHashMap<>();
        for (Object job : list(config.get("scrape_configs"))) {
            Map<String, Object> j = map(job);
            Object target = list(map(list(j.get("static_configs")).get(0)).get("targets"))
                    .get(0);
            targets.put((String) j.get("job_name"), (String) target);
            if (SERVICES.contains(j.get("job_name"))) {
                assertThat(j).containsEntry("metrics_path", "/q/metrics");
            }
        }
        assertThat(targets)
                .containsEntry("fetcher-service", "fetcher-service:8081")
                .containsEntry("dedup-service", "dedup-service:8082")
                .containsEntry("caa-audit-service", "caa-audit-service:8083")
                .containsEntry("notifier-service", "notifier-service:8084");
        // the jobs the alert CtwatchServiceDown watches are the ones scraped here
        assertThat(text("deploy/prometheus/rules.yml")).contains("up{job=~\"" + String.join("|", SERVICES) + "\"}");
    }

    // ---------------------------------------------------------------------------------------------

    /** Metric names registered in the services' code, plus those their READMEs document. */
    private static Set<String> knownMetrics() throws IOException {
        Set<String> known = new HashSet<>();
        Pattern registered = Pattern.compile("\"(ctwatch(?:\\.[a-z0-9]+)+)\"");
        for (String service : SERVICES) {
            known.addAll(metricsIn(text(service + "/README.md")).stream()
                    .map(OpsFilesTest::normalise)
                    .toList());
            try (Stream<Path> files = Files.walk(ROOT.resolve(service).resolve("src/main/java"))) {
                for (Path file :
                        files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher m = registered.matcher(Files.readString(file));
                    while (m.find()) {
                        known.add(normalise(m.group(1).replace('.', '_')));
                    }
                }
            }
        }
        return known;
    }

    private static Set<String> metricsIn(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** Drops what Prometheus adds to a Micrometer name: series and unit suffixes. */
    private static String normalise(String name) {
        return name.replaceFirst("_(bucket|count|sum|max)$", "")
                .replaceFirst("_total$", "")
                .replaceFirst("_seconds$", "");
    }

    private static Map<String, Object> yaml(String file) throws IOException {
        List<Map<String, Object>> docs = documents(file);
        assertThat(docs).as(file).hasSize(1);
        return docs.get(0);
    }

    private static List<Map<String, Object>> documents(String file) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (InputStream in = Files.newInputStream(ROOT.resolve(file))) {
            for (Object doc : new Yaml(new LoaderOptions()).loadAll(in)) {
                if (doc != null) {
                    docs.add(map(doc));
                }
            }
        }
        return docs;
    }

    private static String text(String file) throws IOException {
        return Files.readString(ROOT.resolve(file));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<Object>) o;
    }

    private static Path findRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no deploy/ above the working directory");
        }
        return dir;
    }
}
