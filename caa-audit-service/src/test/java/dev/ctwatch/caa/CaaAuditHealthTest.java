package dev.ctwatch.caa;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.ctwatch.caa.history.CaaHistory;
import dev.ctwatch.caa.history.CaaObservation;
import dev.ctwatch.events.CaaOutcome;
import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.Finding;
import dev.ctwatch.events.IssuanceKey;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The service starts against the broker at KAFKA_BOOTSTRAP_SERVERS and the database, reports ready,
 * audits through the messaging bean (the test profile keeps the incoming channel paused) and
 * exposes its metrics.
 */
@QuarkusTest
class CaaAuditHealthTest {
    static final String LE_R11_AKI = "c5cf46a4eaf4c3c07a6c95c42db05e922f26e3b9";

    @Inject
    CaaAuditor auditor;

    @Inject
    CaaHistory history;

    @Test
    void readyWithKafkaAndTheDatabase() {
        // the channel is ready once its consumer has connected, which it does on its own thread after
        // start-up: right after the application started that may still be under way
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> given().when()
                        .get("/q/health/ready")
                        .then()
                        .statusCode(200)
                        .body("status", equalTo("UP")));
    }

    @Test
    void unknownIssuerIsKeyedAndCounted() {
        Record<String, CertificateAudited> out =
                auditor.audit(certificate("99:1234abcd", "CN=Nobody CA,O=Nobody Knows,C=XX", null, "www.example.test"));

        assertThat(out.key()).isEqualTo("99:1234abcd");
        assertThat(out.value().verdict()).isEqualTo(CaaVerdict.UNKNOWN_ISSUER);
        assertThat(out.value().finding()).isNull();
        given().when()
                .get("/q/metrics")
                .then()
                .statusCode(200)
                .body(containsString("ctwatch_audit_unknown_issuer_total"))
                .body(containsString("ctwatch_audit_certificates_total{verdict=\"UNKNOWN_ISSUER\""))
                .body(containsString("ctwatch_audit_names_total{outcome=\"FORBIDDEN\""))
                .body(containsString("ctwatch_audit_dns_lookup_seconds_count{status=\"ERROR\""))
                .body(containsString("ctwatch_audit_dns_cache_total{result=\"hit\""))
                .body(containsString("ctwatch_audit_findings_total{evidence=\"SUSTAINED\""));
    }

    @Test
    void aFindingIsObservedWithoutHistoryAndSustainedWhenHistoryCoversTheWindow() {
        String name = "deny.caa.test";
        QuarkusTransaction.requiringNew().run(() -> CaaObservation.delete("queriedName", name));

        CertificateAudited first = auditor.audit(
                        certificate("16418:a1", "CN=R11,O=Let's Encrypt,C=US", LE_R11_AKI, name))
                .value();
        assertThat(first.verdict()).isEqualTo(CaaVerdict.POSSIBLE_NON_COMPLIANCE);
        assertThat(first.names()).extracting(n -> n.outcome()).containsExactly(CaaOutcome.FORBIDDEN);
        assertThat(first.finding().evidence()).isEqualTo(Finding.Evidence.OBSERVED);
        assertThat(first.finding().summary())
                .startsWith("Possible CAA non-compliance")
                .contains("0 issue \";\"");
        // the audit's own look is stored, and the name is watched from now on
        assertThat(history.history(name, 10)).hasSize(1);
        assertThat(history.watchedNames(Instant.now().minusSeconds(60))).contains(name);

        // pretend our snapshots have seen the same records since well before the window opened
        QuarkusTransaction.requiringNew().run(() -> {
            CaaObservation row =
                    CaaObservation.<CaaObservation>find("queriedName", name).firstResult();
            row.observedAt = Instant.now().minus(10, ChronoUnit.HOURS);
        });
        CertificateAudited second = auditor.audit(
                        certificate("16418:a2", "CN=R11,O=Let's Encrypt,C=US", LE_R11_AKI, name))
                .value();
        assertThat(second.finding().evidence()).isEqualTo(Finding.Evidence.SUSTAINED);
        assertThat(second.finding().summary()).contains("Evidence level: sustained");
        assertThat(second.finding().evidenceWindowStart())
                .isBefore(second.finding().evidenceWindowEnd());
    }

    private static CertificateDiscovered certificate(String key, String issuerDn, String aki, String name) {
        Instant now = Instant.now();
        CertificateIdentity identity = new CertificateIdentity(
                key.substring(key.indexOf(':') + 1),
                issuerDn,
                "CN=" + name,
                List.of(name),
                List.of(),
                now.minus(1, ChronoUnit.HOURS),
                now.plus(90, ChronoUnit.DAYS),
                true,
                "aa",
                "bb",
                aki);
        return new CertificateDiscovered(
                IssuanceKey.parse(key), List.of(7L), issuerDn, "AA==", identity, List.of(), false, null, now);
    }
}
