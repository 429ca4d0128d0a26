package dev.ctwatch.notifier.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.notifier.Samples;
import dev.ctwatch.notifier.digest.Digest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Block Kit limits and mrkdwn escaping of hostile certificate text. */
class SlackRendererTest {
    private final SlackRenderer renderer = new SlackRenderer();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void hostileTextIsEscapedSoItCannotLinkOrMention() throws Exception {
        CertificateAudited audited = Samples.audited(root -> {
            ((ArrayNode) root.at("/certificate/identity/dnsNames"))
                    .removeAll()
                    .add("<!channel> <https://evil.example|click> & co.lbapps.com");
            ((ArrayNode) root.at("/finding/forbiddenNames"))
                    .removeAll()
                    .add("<!channel> <https://evil.example|click> & co.lbapps.com");
            ((ObjectNode) root.at("/certificate/identity")).put("issuerDn", "CN=<@U123>\nEvil");
        });
        String payload = renderer.render(audited).json();
        JsonNode message = json.readTree(payload);

        List<String> texts = texts(message);
        assertThat(texts).isNotEmpty().allSatisfy(text -> {
            assertThat(text)
                    .doesNotContain("<!channel>")
                    .doesNotContain("<https://evil")
                    .doesNotContain("<@U123>");
        });
        assertThat(message.get("text").asText())
                .startsWith("Possible CAA non-compliance: &lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co")
                .endsWith("<https://crt.sh/?id=3616204835>");
        assertThat(payload).contains("CN=&lt;@U123&gt; Evil");
        // our own links stay links
        assertThat(payload).contains("<https://crt.sh/?id=3616204835|3616204835>");
    }

    @Test
    void longValuesStayWithinBlockKitLimits() throws Exception {
        CertificateAudited audited = Samples.audited(root -> {
            ArrayNode names = (ArrayNode) root.at("/certificate/identity/dnsNames");
            ArrayNode forbidden = (ArrayNode) root.at("/finding/forbiddenNames");
            names.removeAll();
            forbidden.removeAll();
            for (int i = 0; i < 60; i++) {
                names.add("<&>".repeat(80) + i + ".lbapps.com");
                forbidden.add("<&>".repeat(80) + i + ".lbapps.com");
            }
            ArrayNode records = (ArrayNode) root.at("/names/0/records");
            for (int i = 0; i < 60; i++) {
                records.add("0 issue \"" + "&".repeat(200) + "\"");
            }
        });
        JsonNode message = json.readTree(renderer.render(audited).json());
        assertWithinLimits(message);
    }

    @Test
    void aHugeDigestIsCutAtFiftyBlocksAndSaysHowManyMore() throws Exception {
        List<CertificateAudited> certificates = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            certificates.add(Samples.newCertificate(
                    Integer.toHexString(0x1000 + i), "h" + i + ".shop.example", "shop.example", true));
        }
        Digest digest = new Digest(
                "digest:shop.example:16418:1000",
                "default",
                "shop.example",
                certificates,
                EnumSet.of(Digest.Reason.BACKFILL));
        JsonNode message = json.readTree(renderer.render(digest).json());
        assertWithinLimits(message);
        assertThat(message.get("blocks")).hasSize(SlackRenderer.MAX_BLOCKS);
        assertThat(message.get("text").asText())
                .isEqualTo("120 certificates for newly watched shop.example (backfill digest)");
        assertThat(message.toString()).contains("and 73 more certificates … (cut)");
    }

    @Test
    void cuttingNeverSplitsAnEntity() {
        String escaped = SlackRenderer.escape("ab<<<<");
        // "ab&lt;&lt;&lt;&lt;" cut to 12 keeps 5 characters before the marker: "ab&lt" would be broken
        assertThat(SlackRenderer.fit(escaped, 12)).isEqualTo("ab… (cut)");
        assertThat(SlackRenderer.fit("abcdefghijklmnop", 12)).isEqualTo("abcde… (cut)");
        assertThat(SlackRenderer.escape("a&b<c>d\"e'")).isEqualTo("a&amp;b&lt;c&gt;d\"e'");
    }

    static void assertWithinLimits(JsonNode message) {
        assertThat(message.get("text").asText()).isNotBlank();
        JsonNode blocks = message.get("blocks");
        assertThat(blocks.size()).isBetween(1, SlackRenderer.MAX_BLOCKS);
        for (JsonNode block : blocks) {
            switch (block.get("type").asText()) {
                case "header" -> {
                    assertThat(block.at("/text/type").asText()).isEqualTo("plain_text");
                    assertThat(block.at("/text/text").asText().length()).isBetween(1, SlackRenderer.MAX_HEADER);
                }
                case "section" -> {
                    assertThat(block.at("/text/text").asText().length()).isBetween(1, SlackRenderer.MAX_SECTION_TEXT);
                    if (block.has("fields")) {
                        assertThat(block.get("fields").size()).isLessThanOrEqualTo(SlackRenderer.MAX_FIELDS);
                        block.get("fields")
                                .forEach(f -> assertThat(f.get("text").asText().length())
                                        .isBetween(1, SlackRenderer.MAX_FIELD));
                    }
                }
                case "context" -> assertThat(block.get("elements").size()).isBetween(1, 10);
                default -> throw new AssertionError("unexpected block " + block);
            }
        }
    }

    private static List<String> texts(JsonNode message) {
        List<String> out = new ArrayList<>();
        out.add(message.get("text").asText());
        message.findValues("text").forEach(node -> {
            if (node.isTextual()) {
                out.add(node.asText());
            } else if (node.has("text")) {
                out.add(node.get("text").asText());
            }
        });
        return out;
    }
}
