package dev.ctwatch.caa.issuer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The shipped issuer map, fed with the issuer and AKI of real logged certificates. */
class IssuerCaaMapTest {
    static final IssuerCaaMap MAP = IssuerCaaMap.fromClasspath(Map.of());
    static final String LE_R10_SKI = "bbbcc347a5e4bca9c6c3a4720c108da235e1c8e8";

    static Stream<Arguments> fixtures() {
        return Stream.of(
                Arguments.of("digicert_github.com_precert_2022-04-20.pem", "digicert.com", "geotrust.com"),
                Arguments.of("globalsign_cuc01-ms.eesp.ch_precert_2019-06-19.pem", "globalsign.com", null),
                // caa_identities_possible counts too
                Arguments.of("gts-1d2_certificate.transparency.dev_precert_2020-03-23.pem", "pki.goog", "google.com"),
                Arguments.of("le-x3_cryptography.io_cert-with-scts_2018-09-26.pem", "letsencrypt.org", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void knownIssuersOfRealCertificates(String pem, String identity, String alsoAccepted) throws Exception {
        X509Certificate cert = load(pem);

        List<String> ids = MAP.identities(
                authorityKeyId(cert), cert.getIssuerX500Principal().getName());

        assertThat(ids).contains(identity);
        if (alsoAccepted != null) {
            assertThat(ids).contains(alsoAccepted);
        }
        // the same answer from other spellings of the DN
        assertThat(MAP.identities(null, cert.getIssuerX500Principal().toString()))
                .isEqualTo(ids);
        assertThat(MAP.identities(null, cert.getIssuerX500Principal().getName(X500Principal.RFC1779)))
                .isEqualTo(ids);
    }

    @Test
    void unknownIssuerIsEmpty() throws Exception {
        X509Certificate cert = load("trustwave_langui.sh_wildcard_2014-12-15.pem");

        assertThat(MAP.identities(
                        authorityKeyId(cert), cert.getIssuerX500Principal().getName()))
                .isEmpty();
        assertThat(MAP.identities(null, null)).isEmpty();
    }

    @Test
    void authorityKeyIdentifierComesFirst() {
        assertThat(MAP.identities(LE_R10_SKI, "CN=Whatever,O=DigiCert Inc,C=US"))
                .containsExactly("letsencrypt.org");
        assertThat(MAP.identities(LE_R10_SKI.toUpperCase(), null)).containsExactly("letsencrypt.org");
    }

    @Test
    void organizationComesBeforeCommonName() {
        assertThat(MAP.identities(null, "C=US, O=Google Trust Services, CN=R11"))
                .contains("pki.goog");
    }

    @Test
    void commonNameWhenTheOrganizationIsUnknown() {
        assertThat(MAP.identities(null, "CN=R11,O=Someone Else,C=US")).containsExactly("letsencrypt.org");
        assertThat(MAP.identities(null, "CN=GTS CA 1P5")).contains("pki.goog");
    }

    @Test
    void opensslOneLineFormWithQuotedCommas() {
        assertThat(IssuerCaaMap.dnAttributes(
                        "C = US, O = \"Trustwave Holdings, Inc.\", CN = \"Trustwave OV CA, Level 1\""))
                .containsEntry("O", "Trustwave Holdings, Inc.")
                .containsEntry("CN", "Trustwave OV CA, Level 1")
                .containsEntry("C", "US");
        assertThat(IssuerCaaMap.dnAttributes("CN=DigiCert\\, Inc. CA,O=DigiCert\\, Inc."))
                .containsEntry("O", "DigiCert, Inc.");
    }

    @Test
    void overridesReplaceAndExtend() throws Exception {
        X509Certificate trustwave = load("trustwave_langui.sh_wildcard_2014-12-15.pem");
        IssuerCaaMap map = IssuerCaaMap.fromClasspath(Map.of(
                "Trustwave Holdings, Inc.", List.of("TrustWave.com"),
                "Let's Encrypt", List.of("letsencrypt.org", "example-acme.test"),
                "BB:BC:C3:47:A5:E4:BC:A9:C6:C3:A4:72:0C:10:8D:A2:35:E1:C8:E8", List.of("r10.example")));

        assertThat(map.identities(null, trustwave.getIssuerX500Principal().getName()))
                .containsExactly("trustwave.com");
        assertThat(map.identities(null, "CN=R3,O=Let's Encrypt,C=US"))
                .containsExactly("letsencrypt.org", "example-acme.test");
        assertThat(map.identities(LE_R10_SKI, "CN=R10,O=Let's Encrypt,C=US")).containsExactly("r10.example");
        assertThat(map.identities(null, "CN=DigiCert TLS RSA SHA256 2020 CA1,O=DigiCert Inc"))
                .contains("digicert.com");
    }

    private static X509Certificate load(String pem) throws Exception {
        try (InputStream in = IssuerCaaMapTest.class.getResourceAsStream("/pem/" + pem)) {
            assertThat(in).as(pem).isNotNull();
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** keyIdentifier of the AKI extension: OCTET STRING { SEQUENCE { [0] keyIdentifier ... } }. */
    private static String authorityKeyId(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue("2.5.29.35");
        if (ext == null) {
            return null;
        }
        int[] pos = {0};
        expect(ext, pos, 0x04);
        expect(ext, pos, 0x30);
        if ((ext[pos[0]] & 0xff) != 0x80) {
            return null;
        }
        int length = expect(ext, pos, 0x80);
        byte[] keyId = new byte[length];
        System.arraycopy(ext, pos[0], keyId, 0, length);
        return HexFormat.of().formatHex(keyId);
    }

    /** Reads a DER tag and length, leaves pos at the content, returns the length. */
    private static int expect(byte[] der, int[] pos, int tag) {
        assertThat(der[pos[0]++] & 0xff).isEqualTo(tag);
        int length = der[pos[0]++] & 0xff;
        if (length > 0x7f) {
            int octets = length & 0x7f;
            length = 0;
            for (int i = 0; i < octets; i++) {
                length = (length << 8) | (der[pos[0]++] & 0xff);
            }
        }
        return length;
    }
}
