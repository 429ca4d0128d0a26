package dev.ctwatch.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ctwatch.dedup.certificate.ParsedCertificate;
import dev.ctwatch.dedup.certificate.ParsedCertificateTest;
import dev.ctwatch.events.Anomaly;
import dev.ctwatch.events.CrtShRow;
import java.util.List;
import org.junit.jupiter.api.Test;

class IssuanceDecisionTest {

    @Test
    void firstSightingOfAnIssuerAndSerialIsNew() {
        assertThat(IssuanceDecision.decide(List.of(), "aa")).isEqualTo(IssuanceDecision.Kind.NEW);
    }

    @Test
    void sameTbsIsTheTwinOfAKnownIssuance() {
        assertThat(IssuanceDecision.decide(List.of("aa"), "aa")).isEqualTo(IssuanceDecision.Kind.TWIN);
    }

    @Test
    void differentTbsUnderAKnownSerialIsSerialReuse() {
        assertThat(IssuanceDecision.decide(List.of("aa"), "bb")).isEqualTo(IssuanceDecision.Kind.SERIAL_REUSE);
    }

    @Test
    void anIssuanceRecordedWithoutItsCertificateIsTwinOfAnyLaterDownload() {
        // backfill stores no TBS hash: a later precertificate or certificate of that serial completes it
        assertThat(IssuanceDecision.decide(List.of(IssuanceDecision.UNKNOWN_TBS), "bb"))
                .isEqualTo(IssuanceDecision.Kind.TWIN);
        assertThat(IssuanceDecision.decide(List.of("aa"), null)).isEqualTo(IssuanceDecision.Kind.TWIN);
    }

    @Test
    void aRowMatchingItsCertificateIsNoAnomaly() throws Exception {
        ParsedCertificate cert = ParsedCertificate.fromPem(
                ParsedCertificateTest.pem("gts-1d2_certificate.transparency.dev_precert_2020-03-23.pem"));
        CrtShRow row = row("009ca407e225f97cc20a00000000206ee5", "C=US, O=Google Trust Services, CN=GTS CA 1D2");
        assertThat(IssuanceDecision.rowMismatch(row, cert.identity())).isEmpty();
    }

    @Test
    void crtShServingAnotherCertificateIsAnAnomalyNotACrash() throws Exception {
        ParsedCertificate cert = ParsedCertificate.fromPem(
                ParsedCertificateTest.pem("gts-1d2_certificate.transparency.dev_precert_2020-03-23.pem"));
        CrtShRow row = row("01", "C=US, O=Let's Encrypt, CN=R3");
        Anomaly anomaly = IssuanceDecision.rowMismatch(row, cert.identity()).orElseThrow();
        assertThat(anomaly.kind()).isEqualTo(Anomaly.Kind.ROW_MISMATCH);
        assertThat(anomaly.detail()).contains("row serial 01").contains("CN=R3").contains("O=Let's Encrypt");
    }

    private static CrtShRow row(String serial, String issuer) {
        return new CrtShRow(1L, 1L, issuer, null, "certificate.transparency.dev", null, null, null, serial, 1);
    }
}
