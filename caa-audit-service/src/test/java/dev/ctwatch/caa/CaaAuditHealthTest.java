package dev.ctwatch.caa;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.ctwatch.events.CaaVerdict;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.IssuanceKey;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The service starts against the broker at KAFKA_BOOTSTRAP_SERVERS, reports ready and exposes its
 * metrics. The test profile keeps the incoming channel paused (see application.properties).
 */
@QuarkusTest
class CaaAuditHealthTest {
    @Inject
    CaaAuditor auditor;

    @Test
    void readyWithKafka() {
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void unknownIssuerIsKeyedAndCounted() {
        Instant now = Instant.now();
        CertificateIdentity identity = new CertificateIdentity(
                "1234abcd",
                "CN=Nobody CA,O=Nobody Knows,C=XX",
                "CN=www.example.test",
                List.of("www.example.test"),
                List.of(),
                now,
                now.plusSeconds(86400),
                true,
                "aa",
                "bb",
                null);
        CertificateDiscovered discovered = new CertificateDiscovered(
                IssuanceKey.parse("99:1234abcd"),
                List.of(7L),
                "O=Nobody Knows",
                "AA==",
                identity,
                List.of(),
                false,
                null,
                now);

        Record<String, CertificateAudited> out = auditor.audit(discovered);

        assertThat(out.key()).isEqualTo("99:1234abcd");
        assertThat(out.value().verdict()).isEqualTo(CaaVerdict.UNKNOWN_ISSUER);
        given().when()
                .get("/q/metrics")
                .then()
                .statusCode(200)
                .body(containsString("ctwatch_audit_unknown_issuer_total"))
                .body(containsString("ctwatch_audit_certificates_total{verdict=\"UNKNOWN_ISSUER\""))
                .body(containsString("ctwatch_audit_names_total{outcome=\"FORBIDDEN\""))
                .body(containsString("ctwatch_audit_dns_lookup_seconds_count{status=\"ERROR\""));
    }
}
