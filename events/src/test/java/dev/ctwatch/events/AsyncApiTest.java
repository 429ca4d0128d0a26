package dev.ctwatch.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The AsyncAPI document names the real topics, their DLQs, and schema files that exist. */
class AsyncApiTest {

    @Test
    void describesTheThreeTopicsAndTheirDeadLetterTopics() throws IOException {
        JsonNode doc = asyncApi();
        assertThat(doc.path("asyncapi").asText()).isEqualTo("3.0.0");
        List<String> addresses = new ArrayList<>();
        doc.path("channels").forEach(c -> addresses.add(c.path("address").asText()));
        List<String> topics =
                List.of(Topics.CERTIFICATES_OBSERVED, Topics.CERTIFICATES_DISCOVERED, Topics.CERTIFICATES_AUDITED);
        assertThat(addresses)
                .containsExactlyInAnyOrder(
                        topics.get(0),
                        Topics.deadLetter(topics.get(0)),
                        topics.get(1),
                        Topics.deadLetter(topics.get(1)),
                        topics.get(2),
                        Topics.deadLetter(topics.get(2)));
    }

    @Test
    void payloadsReferenceTheSchemaFilesAndHeadersAreCloudEvents() throws IOException {
        JsonNode doc = asyncApi();
        for (String message : List.of("CertificateObserved", "CertificateDiscovered", "CertificateAudited")) {
            String ref =
                    doc.at("/components/messages/" + message + "/payload/$ref").asText();
            assertThat(ref).startsWith("schemas/");
            assertThat(AsyncApiTest.class.getResource("/" + ref)).as(ref).isNotNull();
            assertThat(doc.at("/components/messages/" + message + "/bindings/kafka/key/$ref")
                            .asText())
                    .isEqualTo("#/components/schemas/IssuanceKey");
        }
        List<String> required = new ArrayList<>();
        doc.at("/components/schemas/CloudEventsHeaders/required").forEach(n -> required.add(n.asText()));
        assertThat(required).containsExactlyInAnyOrder("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time");
        String keyPattern = doc.at("/components/schemas/IssuanceKey/pattern").asText();
        assertThat(IssuanceKey.of(16418, "03FF:EE").toString()).matches(keyPattern);
    }

    private static JsonNode asyncApi() throws IOException {
        try (InputStream in = AsyncApiTest.class.getResourceAsStream("/asyncapi.yaml")) {
            assertThat(in).isNotNull();
            return new YAMLMapper().readTree(in);
        }
    }
}
