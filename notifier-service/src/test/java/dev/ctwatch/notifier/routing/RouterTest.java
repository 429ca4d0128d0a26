package dev.ctwatch.notifier.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.Samples;
import java.net.URI;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The routing table as data: event → routes (with the watch entry digests group by). */
class RouterTest {
    static final Route PAYMENTS =
            route("payments", Map.of("team", "payments"), EnumSet.noneOf(Kind.class), Severity.INFO);
    static final Route PAYMENTS_PROD = route(
            "payments-prod", Map.of("team", "payments", "env", "prod"), EnumSet.noneOf(Kind.class), Severity.INFO);
    static final Route FINDINGS = route("findings", Map.of(), EnumSet.of(Kind.CAA_FINDING), Severity.INFO);
    static final Route URGENT = route("urgent", Map.of(), EnumSet.noneOf(Kind.class), Severity.HIGH);
    static final Route ANOMALIES =
            route("anomalies", Map.of(), EnumSet.of(Kind.SERIAL_REUSE, Kind.ROW_MISMATCH), Severity.INFO);
    static final Route DEFAULT = route(Route.DEFAULT, Map.of(), EnumSet.noneOf(Kind.class), Severity.INFO);

    static final Router ROUTER = new Router(List.of(ANOMALIES, FINDINGS, PAYMENTS, PAYMENTS_PROD, URGENT), DEFAULT);

    static Stream<Arguments> table() {
        return Stream.of(
                // name, event, expected "route@entry"
                Arguments.of(
                        "unlabelled new certificate falls to the default route",
                        cert("a.example.com", "example.com"),
                        List.of("default@example.com")),
                Arguments.of(
                        "team label selects that team's route, not the default",
                        cert("pay.example.com", "pay.example.com", "team", "payments"),
                        List.of("payments@pay.example.com")),
                Arguments.of(
                        "every label of a route must match",
                        cert("pay.example.com", "pay.example.com", "team", "payments", "env", "prod"),
                        List.of("payments@pay.example.com", "payments-prod@pay.example.com")),
                Arguments.of(
                        "another team's label is not selected",
                        cert("web.example.com", "web.example.com", "team", "web"),
                        List.of("default@web.example.com")),
                Arguments.of(
                        "a finding goes to the findings route, the team route and the severity route",
                        finding(cert("pay.example.com", "pay.example.com", "team", "payments")),
                        List.of("findings@pay.example.com", "payments@pay.example.com", "urgent@pay.example.com")),
                Arguments.of(
                        "an unlabelled finding does not fall to the default when a kind route takes it",
                        finding(cert("a.example.com", "example.com")),
                        List.of("findings@example.com", "urgent@example.com")),
                Arguments.of(
                        "serial reuse is high severity and an anomaly",
                        anomaly(cert("a.example.com", "example.com"), "SERIAL_REUSE"),
                        List.of("anomalies@example.com", "urgent@example.com")),
                Arguments.of(
                        "row mismatch is medium: anomalies, not urgent",
                        anomaly(cert("a.example.com", "example.com"), "ROW_MISMATCH"),
                        List.of("anomalies@example.com")),
                Arguments.of(
                        "an event without watch entries still reaches routes without labels",
                        finding(noEntries(cert("a.example.com", "example.com"))),
                        List.of("findings@", "urgent@")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void routes(String rule, CertificateAudited event, List<String> expected) {
        assertThat(ROUTER.route(event).stream()
                        .map(r -> r.route().name() + "@" + r.watchEntry())
                        .toList())
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    static Stream<Arguments> classification() {
        return Stream.of(
                Arguments.of(cert("a.example.com", "example.com"), Kind.NEW_CERTIFICATE, Severity.INFO),
                Arguments.of(
                        Samples.audited(r -> r.put("verdict", "INCONCLUSIVE").putNull("finding")),
                        Kind.NEW_CERTIFICATE,
                        Severity.LOW),
                Arguments.of(Samples.golden(), Kind.CAA_FINDING, Severity.HIGH),
                Arguments.of(
                        Samples.audited(r -> ((ObjectNode) r.get("finding")).put("evidence", "SUSTAINED")),
                        Kind.CAA_FINDING,
                        Severity.CRITICAL),
                Arguments.of(
                        anomaly(cert("a.example.com", "example.com"), "SERIAL_REUSE"),
                        Kind.SERIAL_REUSE,
                        Severity.HIGH),
                Arguments.of(
                        anomaly(cert("a.example.com", "example.com"), "ROW_MISMATCH"),
                        Kind.ROW_MISMATCH,
                        Severity.MEDIUM));
    }

    @ParameterizedTest
    @MethodSource("classification")
    void classifies(CertificateAudited event, Kind kind, Severity severity) {
        assertThat(Classification.of(event)).isEqualTo(new Classification(kind, severity));
    }

    static Route route(String name, Map<String, String> labels, EnumSet<Kind> kinds, Severity min) {
        return new Route(
                name,
                labels,
                kinds,
                min,
                List.of(name + "@example.org"),
                Optional.of(URI.create("https://hooks.example/" + name)),
                Optional.empty(),
                Optional.empty(),
                30);
    }

    static CertificateAudited cert(String name, String watched, String... labels) {
        return Samples.newCertificate("1234abcd", name, watched, false, labels);
    }

    static CertificateAudited finding(CertificateAudited certificate) {
        return Samples.asFinding(certificate);
    }

    static CertificateAudited anomaly(CertificateAudited certificate, String kind) {
        return Samples.audited(root -> {
            root.setAll((ObjectNode) dev.ctwatch.events.EventJson.mapper().valueToTree(certificate));
            ((ObjectNode) root.get("certificate"))
                    .putObject("anomaly")
                    .put("kind", kind)
                    .put("detail", "seen twice");
        });
    }

    static CertificateAudited noEntries(CertificateAudited certificate) {
        return Samples.audited(root -> {
            root.setAll((ObjectNode) dev.ctwatch.events.EventJson.mapper().valueToTree(certificate));
            ((ObjectNode) root.get("certificate")).putArray("matches");
        });
    }
}
