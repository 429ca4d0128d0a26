package dev.ctwatch.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Renders the kustomize overlays (dev, prod, sharded) with {@code kubectl kustomize} and parses every document strictly
 * against the fabric8 Kubernetes model: Jackson rejects type errors, and a walk over the parsed
 * object graph fails on every field the model does not know (fabric8 would otherwise keep a misspelt
 * field silently in {@code getAdditionalProperties()}). ServiceMonitor and PrometheusRule are parsed
 * with fabric8's Prometheus-Operator model and KafkaTopic with Strimzi's, as strictly; a custom
 * resource no model knows is checked by hand. No cluster is needed,
 * but kubectl (with its built-in kustomize) is: without it the test fails.
 */
class KustomizeManifestsTest {

    private static final List<String> SERVICES =
            List.of("fetcher-service", "dedup-service", "caa-audit-service", "notifier-service");
    private static final Set<String> CRD_KINDS = Set.of("KafkaTopic", "ServiceMonitor", "PrometheusRule");
    private static final Set<String> KAFKA_TOPIC_SPEC_FIELDS = Set.of("partitions", "replicas", "topicName", "config");

    private final KubernetesSerialization serialization = new KubernetesSerialization();

    {
        // Strimzi's model registers no fabric8 resource type of its own
        serialization.registerKubernetesResource(io.strimzi.api.kafka.model.topic.KafkaTopic.class);
    }

    @ParameterizedTest(name = "overlay {0}")
    @CsvSource({
        "dev, ctwatch-dev, dev, Deployment",
        "prod, ctwatch, 0.1.0, Deployment",
        "sharded, ctwatch, 0.1.0, StatefulSet"
    })
    void overlayRendersToValidKubernetesResources(String overlay, String namespace, String imageTag, String fetcherKind)
            throws Exception {
        List<HasMetadata> resources = parse(render(overlay));
        boolean sharded = fetcherKind.equals("StatefulSet");

        assertThat(kindCounts(resources))
                .as("kinds rendered by overlay " + overlay)
                .containsEntry("Deployment", sharded ? 3 : 4)
                // the sharded fetcher's governing Service is the fifth
                .containsEntry("Service", sharded ? 5 : 4)
                .containsEntry("ServiceAccount", 4)
                .containsEntry("KafkaTopic", 6)
                .containsEntry("ServiceMonitor", 1)
                .containsEntry("PrometheusRule", 1);

        assertThat(resources)
                .as("Prometheus-Operator kinds parse to their typed model, so the unknown-field walk covers them")
                .filteredOn(
                        r -> r.getKind().equals("ServiceMonitor") || r.getKind().equals("PrometheusRule"))
                .hasSize(2)
                .noneMatch(GenericKubernetesResource.class::isInstance);

        List<String> problems = new ArrayList<>();
        for (HasMetadata r : resources) {
            String id = id(r);
            if (!namespace.equals(r.getMetadata().getNamespace())) {
                problems.add(id + ": namespace " + r.getMetadata().getNamespace() + ", expected " + namespace);
            }
            if (r instanceof GenericKubernetesResource generic) {
                problems.addAll(checkCustomResource(generic));
            } else {
                unknownFields(r).forEach(f -> problems.add(id + ": unknown field " + f));
            }
            if (r instanceof io.strimzi.api.kafka.model.topic.KafkaTopic topic) {
                var spec = topic.getSpec();
                if (spec == null
                        || spec.getPartitions() == null
                        || spec.getPartitions() < 1
                        || spec.getReplicas() == null
                        || spec.getReplicas() < 1
                        || spec.getTopicName() == null
                        || spec.getTopicName().isBlank()) {
                    problems.add(id + ": needs partitions, replicas and topicName");
                }
                if (!"ctwatch".equals(topic.getMetadata().getLabels().get("strimzi.io/cluster"))) {
                    problems.add(id + ": label strimzi.io/cluster must be ctwatch");
                }
            }
            if (r instanceof io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor monitor) {
                monitor.getSpec().getEndpoints().forEach(e -> {
                    if (!"http".equals(e.getPort()) || !"/q/metrics".equals(e.getPath())) {
                        problems.add(id + ": endpoint must scrape port http at /q/metrics, not " + e.getPort() + " "
                                + e.getPath());
                    }
                });
            }
            if (r instanceof io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule rule) {
                if (rule.getSpec().getGroups().isEmpty()) {
                    problems.add(id + ": no rule groups");
                }
                rule.getSpec()
                        .getGroups()
                        .forEach(g -> g.getRules().forEach(x -> {
                            if (x.getExpr() == null || (x.getAlert() == null && x.getRecord() == null)) {
                                problems.add(
                                        id + ": group " + g.getName() + " has a rule without expr or alert/record");
                            }
                        }));
            }
        }
        assertThat(problems).as("problems in overlay " + overlay).isEmpty();

        Map<String, Service> services = resources.stream()
                .filter(Service.class::isInstance)
                .map(Service.class::cast)
                .collect(Collectors.toMap(s -> s.getMetadata().getName(), s -> s));
        List<Workload> workloads = workloads(resources);
        assertThat(workloads).extracting(Workload::name).containsExactlyInAnyOrderElementsOf(SERVICES);
        assertThat(workloads)
                .filteredOn(w -> w.name().equals("fetcher-service"))
                .singleElement()
                .extracting(Workload::kind)
                .isEqualTo(fetcherKind);
        for (Workload w : workloads) {
            checkWorkload(w, services.get(w.name()), imageTag);
        }
    }

    /**
     * k8s/overlays/sharded (prod plus k8s/components/sharded-fetcher): the fetcher runs as a
     * StatefulSet whose replica count is its shard count, with the pod template of prod's single
     * fetcher, and every selector that found the single fetcher finds the shards.
     */
    @Test
    void shardedOverlayRunsTheFetcherAsAStatefulSetOfShards() throws Exception {
        List<HasMetadata> sharded = parse(render("sharded"));
        List<HasMetadata> prod = parse(render("prod"));

        assertThat(sharded)
                .as("no fetcher Deployment is left next to the StatefulSet")
                .noneMatch(r ->
                        r instanceof Deployment && r.getMetadata().getName().equals("fetcher-service"));
        StatefulSet set = sharded.stream()
                .filter(StatefulSet.class::isInstance)
                .map(StatefulSet.class::cast)
                .filter(s -> s.getMetadata().getName().equals("fetcher-service"))
                .findFirst()
                .orElseGet(() -> fail("no StatefulSet fetcher-service in the sharded overlay"));
        Deployment single = prod.stream()
                .filter(Deployment.class::isInstance)
                .map(Deployment.class::cast)
                .filter(d -> d.getMetadata().getName().equals("fetcher-service"))
                .findFirst()
                .orElseThrow();

        // the shard count is the replica count; the index comes from the pod's ordinal
        int replicas = set.getSpec().getReplicas();
        assertThat(replicas).as("replicas of the sharded fetcher").isGreaterThan(1);
        Container c = set.getSpec().getTemplate().getSpec().getContainers().get(0);
        Map<String, EnvVar> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
        assertThat(env).containsKey("FETCHER_SHARD_COUNT").doesNotContainKey("FETCHER_SHARD_INDEX");
        assertThat(env.get("FETCHER_SHARD_COUNT").getValue())
                .as("FETCHER_SHARD_COUNT equals spec.replicas")
                .isEqualTo(Integer.toString(replicas));
        assertThat(set.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
        assertThat(set.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");

        // the pod template is prod's single fetcher's, plus the shard count and the spread over nodes
        PodTemplateSpec expected = new PodTemplateSpecBuilder(single.getSpec().getTemplate())
                .editSpec()
                .editFirstContainer()
                .addToEnv(env.get("FETCHER_SHARD_COUNT"))
                .endContainer()
                .withTopologySpreadConstraints(
                        set.getSpec().getTemplate().getSpec().getTopologySpreadConstraints())
                .endSpec()
                .build();
        assertThat(set.getSpec().getTemplate())
                .as("probes, resources, security context, config and Secrets as in prod's single fetcher")
                .isEqualTo(expected);
        assertThat(set.getSpec().getSelector()).isEqualTo(single.getSpec().getSelector());
        Map<String, String> podLabels =
                set.getSpec().getTemplate().getMetadata().getLabels();
        checkProbe("startupProbe", c.getStartupProbe(), "/q/health/live");
        checkProbe("livenessProbe", c.getLivenessProbe(), "/q/health/live");
        checkProbe("readinessProbe", c.getReadinessProbe(), "/q/health/ready");

        // governing Service: headless, selects the pods, and is not scraped (else every pod twice)
        Map<String, Service> services = sharded.stream()
                .filter(Service.class::isInstance)
                .map(Service.class::cast)
                .collect(Collectors.toMap(s -> s.getMetadata().getName(), s -> s));
        Service governing = services.get(set.getSpec().getServiceName());
        assertThat(governing).as("the Service named in spec.serviceName").isNotNull();
        assertThat(governing.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(podLabels).containsAllEntriesOf(governing.getSpec().getSelector());
        ServiceMonitor monitor = sharded.stream()
                .filter(ServiceMonitor.class::isInstance)
                .map(ServiceMonitor.class::cast)
                .findFirst()
                .orElseThrow();
        Map<String, String> scraped = monitor.getSpec().getSelector().getMatchLabels();
        List<String> scrapedFetcherServices = services.values().stream()
                .filter(s -> s.getMetadata().getLabels().entrySet().containsAll(scraped.entrySet()))
                .filter(s -> podLabels
                        .entrySet()
                        .containsAll(s.getSpec().getSelector().entrySet()))
                .map(s -> s.getMetadata().getName())
                .toList();
        assertThat(scrapedFetcherServices)
                .as("Services the ServiceMonitor scrapes the fetcher pods through")
                .containsExactly("fetcher-service");

        // the network policies and the disruption budget still select the pods
        List<String> policies = sharded.stream()
                .filter(NetworkPolicy.class::isInstance)
                .map(NetworkPolicy.class::cast)
                .filter(p -> podLabels
                        .entrySet()
                        .containsAll(
                                p.getSpec().getPodSelector().getMatchLabels().entrySet()))
                .map(p -> p.getMetadata().getName())
                .toList();
        assertThat(policies)
                .contains(
                        "ctwatch-default-deny",
                        "ctwatch-allow-monitoring-scrape",
                        "ctwatch-allow-dns-kafka",
                        "fetcher-service-egress");
        List<PodDisruptionBudget> budgets = sharded.stream()
                .filter(PodDisruptionBudget.class::isInstance)
                .map(PodDisruptionBudget.class::cast)
                .filter(b -> podLabels
                        .entrySet()
                        .containsAll(b.getSpec().getSelector().getMatchLabels().entrySet()))
                .toList();
        assertThat(budgets).as("PodDisruptionBudgets of the fetcher pods").hasSize(1);
        PodDisruptionBudget budget = budgets.get(0);
        assertThat(budget.getSpec().getMaxUnavailable())
                .as("a drain evicts one shard at a time")
                .isEqualTo(new IntOrString(1));
        assertThat(budget.getSpec().getMinAvailable()).isNull();
    }

    /**
     * The component alone leaves FETCHER_SHARD_COUNT at a placeholder that is not a number, so an
     * overlay that forgets to copy spec.replicas into it gets pods that stop at start-up, instead of
     * pods that each poll the whole watchlist.
     */
    @Test
    void componentWithoutTheReplacementLeavesNoUsableShardCount() throws Exception {
        Path moduleDir = Path.of("").toAbsolutePath();
        Path overlay = Files.createDirectories(moduleDir.resolve("target/kustomize-component-only"));
        Files.writeString(overlay.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: ctwatch
                resources:
                  - ../../../k8s/overlays/prod
                components:
                  - ../../../k8s/components/sharded-fetcher
                replicas:
                  - name: fetcher-service
                    count: 2
                """);
        StatefulSet set = parse(render(moduleDir.relativize(overlay).toString())).stream()
                .filter(StatefulSet.class::isInstance)
                .map(StatefulSet.class::cast)
                .findFirst()
                .orElseThrow();
        String count = set.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> e.getName().equals("FETCHER_SHARD_COUNT"))
                .map(EnvVar::getValue)
                .findFirst()
                .orElseThrow();
        assertThat(count)
                .as("FETCHER_SHARD_COUNT without the overlay's replacement")
                .doesNotMatch("\\d+");
    }

    @Test
    void misspeltFieldIsReported() throws Exception {
        String manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: broken
                spec:
                  replica: 2
                  selector:
                    matchLabels:
                      app: broken
                  template:
                    metadata:
                      labels:
                        app: broken
                    spec:
                      containers:
                        - name: broken
                          image: ctwatch/broken:dev
                """;
        List<HasMetadata> resources = parse(manifest);
        assertThat(resources).singleElement().isInstanceOf(Deployment.class);
        assertThat(unknownFields(resources.get(0))).containsExactly(".spec.replica");
    }

    @Test
    void typeErrorIsRejected() {
        String manifest = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: broken
                spec:
                  ports:
                    - name: http
                      port: eighty
                """;
        assertThatThrownBy(() -> parse(manifest)).hasMessageContaining("eighty");
    }

    @Test
    void malformedCustomResourceIsReported() throws Exception {
        String manifest = """
                apiVersion: kafka.strimzi.io/v1beta2
                kind: KafkaTopic
                metadata:
                  name: broken
                spec:
                  partition: 12
                  replicas: "3"
                """;
        List<HasMetadata> resources = parse(manifest);
        assertThat(resources).singleElement().isInstanceOf(GenericKubernetesResource.class);
        assertThat(checkCustomResource((GenericKubernetesResource) resources.get(0)))
                .anySatisfy(p -> assertThat(p).contains("spec.partitions"))
                .anySatisfy(p -> assertThat(p).contains("spec.replicas"))
                .anySatisfy(p -> assertThat(p).contains("spec.topicName"))
                .anySatisfy(p -> assertThat(p).contains("unknown field spec.partition"))
                .anySatisfy(p -> assertThat(p).contains("strimzi.io/cluster"));
    }

    // --- rendering and parsing ---

    /** Renders an overlay of k8s/overlays by name, or a kustomization directory relative to the module. */
    private static String render(String overlay) throws IOException, InterruptedException {
        Path moduleDir = Path.of("").toAbsolutePath();
        String dir = overlay.contains("/") ? overlay : "../k8s/overlays/" + overlay;
        Path overlayDir = moduleDir.resolve(dir).normalize();
        if (!Files.isDirectory(overlayDir)) {
            fail("overlay directory " + overlayDir + " not found; run the test from the e2e module directory");
        }
        String kubectl = findKubectl();
        Path stderr = Files.createTempFile("kustomize-" + overlayDir.getFileName(), ".err");
        try {
            Process p = new ProcessBuilder(kubectl, "kustomize", dir)
                    .directory(moduleDir.toFile())
                    .redirectError(stderr.toFile())
                    .start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("kubectl kustomize " + dir + " did not finish within 60 s");
            }
            if (p.exitValue() != 0) {
                fail("kubectl kustomize " + dir + " exited with " + p.exitValue() + ":\n" + Files.readString(stderr));
            }
            assertThat(out).as("rendered overlay " + overlay).isNotBlank();
            return out;
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    /** kubectl at /usr/bin/kubectl or on the PATH; its absence is a failure, not a skip. */
    private static String findKubectl() {
        List<Path> candidates = new ArrayList<>();
        candidates.add(Path.of("/usr/bin/kubectl"));
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(Pattern.quote(File.pathSeparator))) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "kubectl"));
                }
            }
        }
        return candidates.stream()
                .filter(Files::isExecutable)
                .findFirst()
                .map(Path::toString)
                .orElseGet(() -> fail("kubectl not found (neither /usr/bin/kubectl nor on the PATH): "
                        + "KustomizeManifestsTest needs kubectl with its built-in kustomize to render k8s/overlays"));
    }

    private List<HasMetadata> parse(String yaml) throws IOException {
        Object parsed;
        try (InputStream in = new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))) {
            parsed = serialization.unmarshal(in); // one document gives a resource, several give a List
        }
        List<?> docs = parsed instanceof List<?> list ? list : Collections.singletonList(parsed);
        List<HasMetadata> resources = new ArrayList<>();
        for (Object doc : docs) {
            assertThat(doc).as("every document is a Kubernetes resource").isInstanceOf(HasMetadata.class);
            HasMetadata r = (HasMetadata) doc;
            assertThat(r.getMetadata()).as("metadata of " + r.getKind()).isNotNull();
            assertThat(r.getMetadata().getName()).as("name of a " + r.getKind()).isNotBlank();
            resources.add(r);
        }
        return resources;
    }

    // --- strict walk over the typed model ---

    /** Paths of the fields the typed model did not know, i.e. non-empty additionalProperties. */
    static List<String> unknownFields(Object resource) throws ReflectiveOperationException {
        List<String> unknown = new ArrayList<>();
        walk(resource, "", unknown, Collections.newSetFromMap(new IdentityHashMap<>()));
        return unknown;
    }

    private static void walk(Object o, String path, List<String> unknown, Set<Object> seen)
            throws ReflectiveOperationException {
        if (o == null || !seen.add(o)) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                walk(e, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                walk(e.getValue(), path + "." + e.getKey(), unknown, seen);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model.")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0
                    || !m.getName().startsWith("get")
                    || m.getName().length() == 3
                    || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(o);
            } catch (InvocationTargetException e) {
                throw new IllegalStateException(path + ": " + m.getName() + " failed", e.getCause());
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra) {
                    extra.keySet().forEach(k -> unknown.add(path + "." + k));
                }
            } else {
                String field = m.getName().substring(3);
                walk(value, path + "." + Character.toLowerCase(field.charAt(0)) + field.substring(1), unknown, seen);
            }
        }
    }

    // --- custom resources, checked by hand ---

    static List<String> checkCustomResource(GenericKubernetesResource r) {
        String id = id(r);
        List<String> problems = new ArrayList<>();
        if (!CRD_KINDS.contains(r.getKind())) {
            problems.add(id + ": no typed model and not a known custom resource (misspelt kind or apiVersion?)");
            return problems;
        }
        Object specObject = r.getAdditionalProperties().get("spec");
        if (!(specObject instanceof Map<?, ?> spec)) {
            problems.add(id + ": spec missing or not a map");
            return problems;
        }
        switch (r.getKind()) {
            case "KafkaTopic" -> {
                expectApiVersion(r, "kafka.strimzi.io/v1beta2", problems);
                positiveInt(spec.get("partitions"), id + ": spec.partitions", problems);
                positiveInt(spec.get("replicas"), id + ": spec.replicas", problems);
                if (!(spec.get("topicName") instanceof String name) || name.isBlank()) {
                    problems.add(id + ": spec.topicName must be a non-blank string, is " + spec.get("topicName"));
                }
                if (spec.get("config") != null && !(spec.get("config") instanceof Map)) {
                    problems.add(id + ": spec.config must be a map");
                }
                spec.keySet().stream()
                        .filter(k -> !KAFKA_TOPIC_SPEC_FIELDS.contains(k))
                        .forEach(k -> problems.add(id + ": unknown field spec." + k));
                Map<String, String> labels = r.getMetadata().getLabels();
                if (labels == null || !"ctwatch".equals(labels.get("strimzi.io/cluster"))) {
                    problems.add(id + ": metadata.labels[strimzi.io/cluster] must be \"ctwatch\"");
                }
            }
            case "ServiceMonitor" -> {
                expectApiVersion(r, "monitoring.coreos.com/v1", problems);
                List<?> endpoints = nonEmptyList(spec.get("endpoints"), id + ": spec.endpoints", problems);
                for (int i = 0; i < endpoints.size(); i++) {
                    String at = id + ": spec.endpoints[" + i + "]";
                    if (!(endpoints.get(i) instanceof Map<?, ?> endpoint)) {
                        problems.add(at + " is not a map");
                        continue;
                    }
                    if (!"http".equals(endpoint.get("port"))) {
                        problems.add(at + ".port must be \"http\", is " + endpoint.get("port"));
                    }
                    if (!"/q/metrics".equals(endpoint.get("path"))) {
                        problems.add(at + ".path must be \"/q/metrics\", is " + endpoint.get("path"));
                    }
                }
            }
            case "PrometheusRule" -> {
                expectApiVersion(r, "monitoring.coreos.com/v1", problems);
                List<?> groups = nonEmptyList(spec.get("groups"), id + ": spec.groups", problems);
                for (int g = 0; g < groups.size(); g++) {
                    String at = id + ": spec.groups[" + g + "]";
                    if (!(groups.get(g) instanceof Map<?, ?> group)) {
                        problems.add(at + " is not a map");
                        continue;
                    }
                    if (!(group.get("name") instanceof String name) || name.isBlank()) {
                        problems.add(at + ".name must be a non-blank string");
                    }
                    List<?> rules = nonEmptyList(group.get("rules"), at + ".rules", problems);
                    for (int i = 0; i < rules.size(); i++) {
                        String ruleAt = at + ".rules[" + i + "]";
                        if (!(rules.get(i) instanceof Map<?, ?> rule)) {
                            problems.add(ruleAt + " is not a map");
                            continue;
                        }
                        if (!(rule.get("expr") instanceof String expr) || expr.isBlank()) {
                            problems.add(ruleAt + ".expr must be a non-blank string");
                        }
                        if (!(rule.get("alert") instanceof String) && !(rule.get("record") instanceof String)) {
                            problems.add(ruleAt + " needs alert or record");
                        }
                    }
                }
            }
            default -> throw new IllegalStateException(r.getKind());
        }
        return problems;
    }

    private static void expectApiVersion(HasMetadata r, String expected, List<String> problems) {
        if (!expected.equals(r.getApiVersion())) {
            problems.add(id(r) + ": apiVersion must be " + expected);
        }
    }

    private static void positiveInt(Object value, String what, List<String> problems) {
        if (!(value instanceof Integer i) || i < 1) {
            problems.add(what + " must be a positive int, is " + describe(value));
        }
    }

    private static List<?> nonEmptyList(Object value, String what, List<String> problems) {
        if (value instanceof List<?> list && !list.isEmpty()) {
            return list;
        }
        problems.add(what + " must be a non-empty list, is " + describe(value));
        return List.of();
    }

    private static String describe(Object value) {
        return value == null ? "missing" : value.getClass().getSimpleName() + " " + value;
    }

    // --- Deployments, StatefulSets and their Services ---

    /** A Deployment or StatefulSet: what the checks need of either. */
    private record Workload(String kind, String name, LabelSelector selector, PodTemplateSpec template) {}

    private static List<Workload> workloads(List<HasMetadata> resources) {
        List<Workload> workloads = new ArrayList<>();
        for (HasMetadata r : resources) {
            if (r instanceof Deployment d) {
                workloads.add(new Workload(
                        "Deployment",
                        d.getMetadata().getName(),
                        d.getSpec().getSelector(),
                        d.getSpec().getTemplate()));
            } else if (r instanceof StatefulSet s) {
                workloads.add(new Workload(
                        "StatefulSet",
                        s.getMetadata().getName(),
                        s.getSpec().getSelector(),
                        s.getSpec().getTemplate()));
            }
        }
        return workloads;
    }

    private static void checkWorkload(Workload w, Service service, String imageTag) {
        String name = w.name();
        PodSpec pod = w.template().getSpec();
        Map<String, String> podLabels = w.template().getMetadata().getLabels();

        assertThat(podLabels)
                .as(name + ": the selector matches the pod template")
                .containsAllEntriesOf(w.selector().getMatchLabels());
        assertThat(pod.getContainers()).as(name + ": containers").hasSize(1);
        Container c = pod.getContainers().get(0);
        assertThat(c.getImage())
                .as(name + ": image")
                .matches("ctwatch/" + Pattern.quote(name) + ":" + Pattern.quote(imageTag));

        ContainerPort http = c.getPorts().stream()
                .filter(p -> "http".equals(p.getName()))
                .findFirst()
                .orElseGet(() -> fail(name + ": no container port named http"));
        assertThat(http.getContainerPort()).as(name + ": containerPort of http").isNotNull();
        checkProbe(name + ": livenessProbe", c.getLivenessProbe(), "/q/health/live");
        checkProbe(name + ": readinessProbe", c.getReadinessProbe(), "/q/health/ready");

        SecurityContext sc = c.getSecurityContext();
        PodSecurityContext psc = pod.getSecurityContext();
        assertThat(sc).as(name + ": container securityContext").isNotNull();
        Boolean runAsNonRoot =
                sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot() : psc == null ? null : psc.getRunAsNonRoot();
        assertThat(runAsNonRoot).as(name + ": runAsNonRoot").isTrue();
        assertThat(sc.getReadOnlyRootFilesystem())
                .as(name + ": readOnlyRootFilesystem")
                .isTrue();

        assertThat(service).as(name + ": Service of the same name").isNotNull();
        assertThat(podLabels)
                .as(name + ": the Service selector matches the pod template")
                .containsAllEntriesOf(service.getSpec().getSelector());
        ServicePort servicePort = service.getSpec().getPorts().stream()
                .filter(p -> "http".equals(p.getName()))
                .findFirst()
                .orElseGet(() -> fail(name + ": Service has no port named http"));
        IntOrString target = servicePort.getTargetPort();
        assertThat(target).as(name + ": Service targetPort").isNotNull();
        if (target.getStrVal() != null) {
            assertThat(target.getStrVal())
                    .as(name + ": Service targetPort names the container port")
                    .isEqualTo(http.getName());
        } else {
            assertThat(target.getIntVal())
                    .as(name + ": Service targetPort equals the container port http")
                    .isEqualTo(http.getContainerPort());
        }
    }

    private static void checkProbe(String what, Probe probe, String path) {
        assertThat(probe).as(what).isNotNull();
        HTTPGetAction get = probe.getHttpGet();
        assertThat(get).as(what + ".httpGet").isNotNull();
        assertThat(get.getPath()).as(what + ".httpGet.path").isEqualTo(path);
        assertThat(get.getPort()).as(what + ".httpGet.port").isNotNull();
        assertThat(get.getPort().getStrVal()).as(what + ".httpGet.port").isEqualTo("http");
    }

    // --- helpers ---

    private static Map<String, Integer> kindCounts(List<HasMetadata> resources) {
        Map<String, Integer> counts = new TreeMap<>();
        resources.forEach(r -> counts.merge(r.getKind(), 1, Integer::sum));
        return counts;
    }

    private static String id(HasMetadata r) {
        return r.getApiVersion() + "/" + r.getKind() + " " + r.getMetadata().getName();
    }
}
