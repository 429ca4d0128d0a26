package dev.ctwatch.dedup.certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

public class ParsedCertificateTest {

    @Test
    void readsTheIdentityOfARealPrecertificate() throws Exception {
        ParsedCertificate cert = ParsedCertificate.fromPem(pem("globalsign_cuc01-ms.eesp.ch_precert_2019-06-19.pem"));
        var id = cert.identity();
        assertThat(id.serialHex()).isEqualTo("3f3dfc652dd6bceadc704fdf");
        assertThat(id.precertificate()).isTrue();
        assertThat(id.dnsNames()).containsExactly("cuc01-ms.eesp.ch", "eesp.ch", "cuc01.eesp.ch", "cuc02.eesp.ch");
        // the fingerprint Censys prints for this certificate
        assertThat(id.sha256Fingerprint()).startsWith("0037ae75").endsWith("53f1c4");
        assertThat(id.issuerDn()).contains("CN=GlobalSign RSA OV SSL CA 2018");
    }

    @Test
    void aTopBitSerialKeepsItsIntegerValue() throws Exception {
        // crt.sh spells it 009ca407…; the identity uses the integer's hex
        ParsedCertificate cert =
                ParsedCertificate.fromPem(pem("gts-1d2_certificate.transparency.dev_precert_2020-03-23.pem"));
        assertThat(cert.serial()).isEqualTo(new BigInteger("009ca407e225f97cc20a00000000206ee5", 16));
        assertThat(cert.identity().serialHex()).isEqualTo("9ca407e225f97cc20a00000000206ee5");
    }

    @Test
    void aFinalCertificateIsNoPrecertificateAndHasItsOwnHash() throws Exception {
        ParsedCertificate fin = ParsedCertificate.fromPem(pem("le-x3_cryptography.io_cert-with-scts_2018-09-26.pem"));
        ParsedCertificate pre = ParsedCertificate.fromPem(pem("le-x3_cryptography.io_precert_2018-07-28.pem"));
        assertThat(fin.identity().precertificate()).isFalse();
        assertThat(pre.identity().precertificate()).isTrue();
        // same key, different issuance: never twins
        assertThat(fin.identity().tbsSha256()).isNotEqualTo(pre.identity().tbsSha256());
        assertThat(fin.identity().authorityKeyId()).isEqualTo("a84a6a63047dddbae6d139b7a64565eff3a8eca1");
    }

    @Test
    void precertificateAndFinalCertificateHashTheSame() throws Exception {
        TestCa ca = new TestCa("Twin CA");
        Instant from = Instant.parse("2026-12-01T00:00:00Z");
        BigInteger serial = new BigInteger("00f00d", 16);
        ParsedCertificate pre = ParsedCertificate.fromDer(ca.issue(serial, List.of("www.twin.test"), true, from));
        ParsedCertificate fin = ParsedCertificate.fromDer(ca.issue(serial, List.of("www.twin.test"), false, from));
        ParsedCertificate other = ParsedCertificate.fromDer(ca.issue(serial, List.of("evil.twin.test"), false, from));
        assertThat(pre.identity().precertificate()).isTrue();
        assertThat(fin.identity().precertificate()).isFalse();
        assertThat(pre.identity().sha256Fingerprint())
                .isNotEqualTo(fin.identity().sha256Fingerprint());
        assertThat(pre.identity().tbsSha256()).isEqualTo(fin.identity().tbsSha256());
        assertThat(other.identity().tbsSha256()).isNotEqualTo(fin.identity().tbsSha256());
    }

    @Test
    void bodiesThatAreNoCertificateSayWhy() {
        assertThatThrownBy(() -> ParsedCertificate.fromPem("<html>Sorry</html>"))
                .isInstanceOf(CertificateParseException.class)
                .hasMessageContaining("no PEM");
        assertThatThrownBy(() ->
                        ParsedCertificate.fromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
                .isInstanceOf(CertificateParseException.class)
                .hasMessageContaining("not an X.509");
    }

    public static String pem(String file) throws IOException {
        try (InputStream in = ParsedCertificateTest.class.getResourceAsStream("/pem/" + file)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}
