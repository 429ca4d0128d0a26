package dev.ctwatch.fetcher.crtsh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.events.CrtShRow;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrtShAnswerTest {

    @Test
    void readsARecordedCrtShAnswerRowByRow() throws Exception {
        List<CrtShRow> rows = new ArrayList<>();
        CrtShAnswer.Result result;
        try (InputStream in =
                getClass().getResourceAsStream("/crtsh/ninoseki-crtsh_2020-01-12_identity-exclude-expired.body.json")) {
            result = CrtShAnswer.read(in, rows::add);
        }
        assertThat(result.outcome()).isEqualTo(CrtShAnswer.Outcome.SUCCESS);
        assertThat(result.rows()).isEqualTo(12).isEqualTo(rows.size());
        assertThat(rows.get(0).id()).isEqualTo(2202554056L);
        assertThat(rows.get(0).names()).containsExactly("*.crt.sh", "crt.sh");
        // the 2020 shape has no serial: such a row carries no issuance key
        assertThat(rows.get(0).issuanceKey()).isNull();
    }

    @Test
    void modernRowsCarryTheirIssuanceKey() throws Exception {
        List<CrtShRow> rows = new ArrayList<>();
        try (InputStream in =
                getClass().getResourceAsStream("/crtsh/wordeater-readme_2020-11_modern-schema-excerpt.json")) {
            CrtShAnswer.read(in, rows::add);
        }
        assertThat(rows.get(0).issuanceKey()).hasToString("16418:3ffeea57322e24cd6fd207682f59ead324f");
    }

    @Test
    void statusAndContentTypeDecideBeforeTheBody() {
        assertThat(CrtShAnswer.classify(200, "application/json")).isNull();
        assertThat(CrtShAnswer.classify(200, "text/html; charset=UTF-8").outcome())
                .isEqualTo(CrtShAnswer.Outcome.INPUT_ERROR);
        assertThat(CrtShAnswer.classify(503, "text/plain").outcome()).isEqualTo(CrtShAnswer.Outcome.UNAVAILABLE);
        assertThat(CrtShAnswer.classify(429, null).outcome()).isEqualTo(CrtShAnswer.Outcome.UNAVAILABLE);
        assertThat(CrtShAnswer.classify(502, "text/html").outcome()).isEqualTo(CrtShAnswer.Outcome.UNAVAILABLE);
        // a blocked User-Agent: retrying cannot help, the operator must act
        assertThat(CrtShAnswer.classify(403, "text/html").outcome()).isEqualTo(CrtShAnswer.Outcome.REFUSED);
        assertThat(CrtShAnswer.Outcome.UNAVAILABLE.retryable()).isTrue();
        assertThat(CrtShAnswer.Outcome.INPUT_ERROR.retryable()).isFalse();
        assertThat(CrtShAnswer.Outcome.REFUSED.retryable()).isFalse();
    }

    @Test
    void aTruncatedBodyIsNoSuccessButKeepsTheRowsBeforeTheCut() {
        String body = "[{\"id\":1,\"issuer_ca_id\":2,\"serial_number\":\"0a\",\"result_count\":1},{\"id\":2,\"iss";
        List<CrtShRow> rows = new ArrayList<>();
        CrtShAnswer.Result result = CrtShAnswer.read(stream(body), rows::add);
        assertThat(result.outcome()).isEqualTo(CrtShAnswer.Outcome.UNAVAILABLE);
        assertThat(rows).extracting(CrtShRow::id).containsExactly(1L);
    }

    @Test
    void emptyBodiesAndObjectsAreNotAnswers() {
        assertThat(CrtShAnswer.read(stream(""), r -> {}).outcome()).isEqualTo(CrtShAnswer.Outcome.UNAVAILABLE);
        assertThat(CrtShAnswer.read(stream("{\"error\":1}"), r -> {}).outcome())
                .isEqualTo(CrtShAnswer.Outcome.MALFORMED);
        assertThat(CrtShAnswer.read(stream("[]"), r -> {}).outcome()).isEqualTo(CrtShAnswer.Outcome.SUCCESS);
    }

    @Test
    void tenThousandIdentityRowsMeanCrtShTruncated() {
        String body = "[{\"id\":1,\"result_count\":9999},{\"id\":2,\"result_count\":1}]";
        assertThat(CrtShAnswer.read(stream(body), r -> {}).truncated()).isTrue();
        assertThat(CrtShAnswer.read(stream("[{\"id\":1,\"result_count\":9999}]"), r -> {})
                        .truncated())
                .isFalse();
    }

    private static InputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }
}
