package dev.ctwatch.caa;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;

import dev.ctwatch.caa.history.CaaHistory;
import dev.ctwatch.caa.history.CaaObservation;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code /api/caa/check} and {@code /api/caa/history} over NSD and PostgreSQL. */
@QuarkusTest
@QuarkusTestResource(value = NsdTestResource.class, restrictToAnnotatedClass = false)
class CaaApiTest {
    @Inject
    CaaAuditService audits;

    @Inject
    CaaHistory history;

    @ParameterizedTest(name = "{0} for {1} -> {2}")
    @CsvSource({
        "caa.test, letsencrypt.org, PERMITTED, caa.test",
        "www.caa.test, letsencrypt.org, PERMITTED, caa.test",
        "deny.caa.test, letsencrypt.org, FORBIDDEN, deny.caa.test",
        "crit.caa.test, letsencrypt.org, FORBIDDEN, crit.caa.test",
        "*.wild.caa.test, sectigo.com, PERMITTED, wild.caa.test",
        "params.caa.test, letsencrypt.org, CONDITIONAL, params.caa.test",
        "www.dn.caa.test, pki.goog, PERMITTED, www.dn.caa.test",
        "broken.test, letsencrypt.org, ERROR, broken.test",
        "Deny.CAA.test., LetsEncrypt.org, FORBIDDEN, deny.caa.test"
    })
    void check(String name, String ca, String outcome, String owner) {
        given().queryParam("name", name)
                .queryParam("ca", ca)
                .when()
                .get("/api/caa/check")
                .then()
                .statusCode(200)
                .body("outcome", equalTo(outcome))
                .body("relevantOwner", equalTo(owner))
                .body("checkedAt", notNullValue());
    }

    @Test
    void checkReportsTheRecordsAndAcceptsSeveralCas() {
        given().when()
                .get("/api/caa/check?name=deny.caa.test&ca=letsencrypt.org")
                .then()
                .statusCode(200)
                .body("records", equalTo(List.of("0 issue \";\"")))
                .body("ttlSeconds", equalTo(60));
        given().when()
                .get("/api/caa/check?name=www.other.test&ca=letsencrypt.org&ca=pki.goog")
                .then()
                .statusCode(200)
                .body("outcome", equalTo("PERMITTED"))
                .body("cas", equalTo(List.of("letsencrypt.org", "pki.goog")));
    }

    @Test
    void accountAndMethodResolveRfc8657Parameters() {
        String base = "/api/caa/check?name=params.caa.test&ca=letsencrypt.org";
        String account = "&account-uri=https://acme-v02.api.letsencrypt.org/acme/acct/1";
        given().get(base + account + "&validation-method=dns-01")
                .then()
                .statusCode(200)
                .body("outcome", equalTo("PERMITTED"));
        given().get(base + account + "&validation-method=http-01")
                .then()
                .statusCode(200)
                .body("outcome", equalTo("FORBIDDEN"));
        given().get(base + account).then().statusCode(200).body("outcome", equalTo("CONDITIONAL"));
    }

    @ParameterizedTest(name = "{0} -> 400")
    @CsvSource(
            delimiter = '|',
            value = {
                "/api/caa/check?ca=letsencrypt.org | name is required",
                "/api/caa/check?name=&ca=letsencrypt.org | name is required",
                "/api/caa/check?name=not a name&ca=letsencrypt.org | not a DNS name",
                "/api/caa/check?name=a..b&ca=letsencrypt.org | not a DNS name",
                "/api/caa/check?name=caa.test | at least one ca",
                "/api/caa/check?name=caa.test&ca=lets encrypt | not a CAA issuer domain name",
                "/api/caa/check?name=caa.test&ca=letsencrypt.org. | not a CAA issuer domain name",
                "/api/caa/check?name=caa.test&ca=letsencrypt.org&account-uri=acct/1 | absolute URI",
                "/api/caa/check?name=caa.test&ca=letsencrypt.org&account-uri=:nope | not a URI",
                "/api/caa/check?name=caa.test&ca=letsencrypt.org&validation-method=dns_01 | validation-method",
                "/api/caa/history | name must be a DNS name",
                "/api/caa/history?name=caa.test&limit=abc | limit must be",
                "/api/caa/history?name=caa.test&limit=0 | limit must be"
            })
    void badParametersAre400WithAMessage(String url, String message) {
        given().urlEncodingEnabled(false)
                .when()
                .get(url.replace(" ", "%20"))
                .then()
                .statusCode(400)
                .body("error", containsString(message));
    }

    @Test
    void snapshotsStoreANewRowOnlyWhenTheAnswerChanges() throws Exception {
        String name = "changing.caa.test";
        QuarkusTransaction.requiringNew().run(() -> CaaObservation.delete("queriedName", name));
        history.watch(List.of(name), Instant.now());

        audits.snapshot();
        audits.snapshot();
        List<CaaObservation> rows = history.history(name, 10);
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).lastSeen).isAfter(rows.get(0).observedAt);
        assertThat(rows.get(0).recordList()).containsExactly("0 issue \"letsencrypt.org\"");

        Path zone = NsdTestResource.DIR.resolve("caa.test.zone");
        Files.writeString(
                zone,
                Files.readString(zone)
                        .replace(
                                "changing   IN CAA   0 issue \"letsencrypt.org\"",
                                "changing   IN CAA   0 issue \"ca.example.net\""));
        NsdTestResource.reload();

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            audits.snapshot();
            assertThat(history.history(name, 10)).hasSize(2);
        });
        given().get("/api/caa/history?name=changing.caa.test")
                .then()
                .statusCode(200)
                .body("name", equalTo(name))
                .body("observations", hasSize(2))
                .body("observations[0].records", equalTo(List.of("0 issue \"ca.example.net\"")))
                .body("observations[0].status", equalTo("RECORDS"))
                .body("observations[0].relevantOwner", equalTo(name))
                .body("observations[0].ttlSeconds", equalTo(60))
                .body("observations[1].records", equalTo(List.of("0 issue \"letsencrypt.org\"")));
    }
}
