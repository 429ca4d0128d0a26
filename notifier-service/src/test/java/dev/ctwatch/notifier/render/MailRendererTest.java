package dev.ctwatch.notifier.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.Samples;
import dev.ctwatch.notifier.render.MailRenderer.RenderedMail;
import org.junit.jupiter.api.Test;

class MailRendererTest {
    private final MailRenderer renderer = new MailRenderer("[ctwatch]");

    @Test
    void findingSaysPossibleNonComplianceWithEverythingNeededToAct() {
        RenderedMail mail = renderer.render(Samples.golden());

        assertThat(mail.subject()).isEqualTo("[ctwatch] Possible CAA non-compliance: icheck.lbapps.com");
        assertThat(mail.text())
                .startsWith("Possible CAA non-compliance: icheck.lbapps.com\n")
                .contains("https://crt.sh/?id=3616204835")
                .contains("https://crt.sh/?id=3616206571")
                .contains("CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US")
                .contains("3ffeea57322e24cd6fd207682f59ead324f")
                .contains("from 2020-11-07 15:46:43 UTC to 2021-02-05 15:46:43 UTC")
                .contains("precertificate")
                .contains("POSSIBLE_NON_COMPLIANCE")
                .contains("FORBIDDEN, records at lbapps.com, checked 2026-12-04 21:00:03 UTC")
                .contains("0 issue \"digicert.com\"")
                .contains("no issue property authorises letsencrypt.org")
                .contains("Possible CAA non-compliance: icheck.lbapps.com was not authorised for letsencrypt.org")
                .contains("OBSERVED")
                .contains("lbapps.com and subdomains (team=payments)");
        assertThat(mail.html())
                .contains("<h1>Possible CAA non-compliance: icheck.lbapps.com</h1>")
                .contains("<a href=\"https://crt.sh/?id=3616204835\">https://crt.sh/?id=3616204835</a>")
                .contains("CN=Let&#39;s Encrypt Authority X3")
                .contains("0 issue &quot;digicert.com&quot;");
    }

    @Test
    void compliantCertificateIsANewCertificateForTheWatchedEntry() {
        CertificateAudited audited = Samples.audited(root -> {
            root.put("verdict", "COMPLIANT");
            root.putNull("finding");
            ((ArrayNode) root.at("/certificate/identity/dnsNames"))
                    .add("www.lbapps.com")
                    .add("api.lbapps.com");
            ((ObjectNode) root.at("/certificate/identity")).put("precertificate", false);
        });

        RenderedMail mail = renderer.render(audited);

        assertThat(mail.subject()).isEqualTo("[ctwatch] New certificate for lbapps.com: icheck.lbapps.com (+2 more)");
        assertThat(mail.text())
                .contains("www.lbapps.com")
                .contains("api.lbapps.com")
                .contains("Type:           certificate")
                .contains("COMPLIANT (every name permitted the issuer)")
                .doesNotContain("Finding:");
    }

    @Test
    void serialReuseIsNamedInTheSubject() {
        CertificateAudited audited = Samples.audited(root -> {
            root.put("verdict", "COMPLIANT");
            root.putNull("finding");
            ObjectNode anomaly = ((ObjectNode) root.get("certificate")).putObject("anomaly");
            anomaly.put("kind", "SERIAL_REUSE");
            anomaly.put("detail", "crt.sh id 1 has another TBSCertificate");
        });

        RenderedMail mail = renderer.render(audited);

        assertThat(mail.subject())
                .startsWith(
                        "[ctwatch] Serial reuse: serial 3ffeea57322e24cd6fd207682f59ead324f by C=US, O=Let's Encrypt")
                .endsWith("for icheck.lbapps.com");
        assertThat(mail.text()).contains("SERIAL_REUSE: crt.sh id 1 has another TBSCertificate");
    }

    @Test
    void hostileNamesCannotInjectHeadersOrMarkup() {
        String hostile = "<script>alert(1)</script>.lbapps.com\r\nBcc: x@y";
        CertificateAudited audited = Samples.audited(root -> {
            root.put("verdict", "COMPLIANT");
            root.putNull("finding");
            ((ArrayNode) root.at("/certificate/identity/dnsNames")).removeAll().add(hostile);
            ((ObjectNode) root.at("/certificate/identity")).put("issuerDn", "CN=Evil\u202e CA\u0000\n<b>");
            ((ObjectNode) root.at("/names/0")).put("detail", "line1\nSubject: spoofed");
        });

        RenderedMail mail = renderer.render(audited);

        assertThat(mail.subject())
                .isEqualTo("[ctwatch] New certificate for lbapps.com: <script>alert(1)</script>.lbapps.com Bcc: x@y")
                .doesNotContain("\r")
                .doesNotContain("\n");
        assertThat(mail.subject().chars()).noneMatch(Character::isISOControl);
        assertThat(mail.html())
                .doesNotContain("<script>")
                .doesNotContain("<b>")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;.lbapps.com Bcc: x@y")
                .contains("CN=Evil CA &lt;b&gt;");
        assertThat(mail.text())
                .contains("<script>alert(1)</script>.lbapps.com Bcc: x@y")
                .doesNotContain("\nBcc:")
                .doesNotContain("\nSubject: spoofed")
                .contains("line1 Subject: spoofed")
                .doesNotContain("\u202e")
                .doesNotContain("\u0000");
    }

    @Test
    void overLongValuesAreCutVisibly() {
        String longName = "a".repeat(2000) + ".lbapps.com";
        CertificateAudited audited = Samples.audited(root -> {
            ((ArrayNode) root.at("/certificate/identity/dnsNames")).removeAll().add(longName);
            ((ArrayNode) root.at("/finding/forbiddenNames")).removeAll().add(longName);
            ArrayNode records = (ArrayNode) root.at("/names/0/records");
            for (int i = 0; i < 80; i++) {
                records.add("0 issue \"ca" + i + ".example\"");
            }
        });

        RenderedMail mail = renderer.render(audited);

        assertThat(mail.subject()).hasSize(MailRenderer.MAX_SUBJECT).endsWith("… (cut)");
        assertThat(mail.text())
                .contains("a".repeat(100))
                .doesNotContain("a".repeat(MailRenderer.MAX_VALUE))
                .contains("more … (cut)");
        assertThat(mail.html()).contains("… (cut)");
    }

    @Test
    void oneLineAndCutHelpers() {
        assertThat(MailRenderer.oneLine(" a\r\n\tb\u2028c\u200bd ")).isEqualTo("a b c d");
        assertThat(MailRenderer.oneLine(null)).isEqualTo("-");
        assertThat(MailRenderer.cut("abcdefghijklmnop", 12)).isEqualTo("abcde… (cut)");
        assertThat(MailRenderer.cut("short", 12)).isEqualTo("short");
        assertThat(MailRenderer.escape("<a href='x'>&\"</a>"))
                .isEqualTo("&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }

    @Test
    void subjectPrefixIsSanitisedToo() {
        RenderedMail mail = new MailRenderer("[ct\r\nwatch]").render(Samples.golden());
        assertThat(mail.subject()).startsWith("[ct watch] Possible CAA");
    }
}
