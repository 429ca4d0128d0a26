package dev.ctwatch.notifier.render;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.Samples;
import dev.ctwatch.notifier.digest.Digest;
import dev.ctwatch.notifier.render.MailRenderer.RenderedMail;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every template's output pinned by a golden file in {@code src/test/resources/snapshots/}. */
class TemplateSnapshotTest {
    private final MailRenderer mail = new MailRenderer("[ctwatch]");
    private final SlackRenderer slack = new SlackRenderer();
    private final WebhookRenderer webhook = new WebhookRenderer();

    @Test
    void finding() throws IOException {
        RenderedMail rendered = mail.render(Samples.golden());
        Snapshots.assertMatches("finding.mail.txt", rendered.subject() + "\n\n" + rendered.text());
        Snapshots.assertMatches("finding.mail.html", rendered.html());
        Snapshots.assertMatches(
                "finding.slack.json", pretty(slack.render(Samples.golden()).json()));
    }

    @Test
    void newCertificate() throws IOException {
        CertificateAudited audited =
                Samples.newCertificate("4e2b9c0d1f", "www.shop.example", "shop.example", false, "team", "web");
        RenderedMail rendered = mail.render(audited);
        Snapshots.assertMatches("new-certificate.mail.txt", rendered.subject() + "\n\n" + rendered.text());
        Snapshots.assertMatches(
                "new-certificate.slack.json", pretty(slack.render(audited).json()));
    }

    @Test
    void backfillDigest() throws IOException {
        Digest digest = sampleDigest();
        RenderedMail rendered = mail.render(digest);
        Snapshots.assertMatches("backfill-digest.mail.txt", rendered.subject() + "\n\n" + rendered.text());
        Snapshots.assertMatches("backfill-digest.mail.html", rendered.html());
        Snapshots.assertMatches(
                "backfill-digest.slack.json", pretty(slack.render(digest).json()));
        Snapshots.assertMatches(
                "backfill-digest.webhook.json", pretty(webhook.render(digest).json()));
    }

    static Digest sampleDigest() {
        List<CertificateAudited> certificates = List.of(
                Samples.newCertificate("1a", "shop.example", "shop.example", true),
                Samples.newCertificate("2b", "www.shop.example", "shop.example", true),
                Samples.newCertificate("3c", "api.shop.example", "shop.example", true));
        return new Digest(
                Digest.key("shop.example", "16418:1a"),
                "default",
                "shop.example",
                certificates,
                EnumSet.of(Digest.Reason.BACKFILL));
    }

    static String pretty(String json) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        return mapper.writeValueAsString(mapper.readTree(json)) + "\n";
    }
}
