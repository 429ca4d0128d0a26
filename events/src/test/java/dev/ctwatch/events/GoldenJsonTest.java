package dev.ctwatch.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The golden files pin the wire format other teams read. If this test fails, the change is not
 * additive: put it on a new {@code .v2} topic instead of editing the golden file.
 */
class GoldenJsonTest {

    @ParameterizedTest
    @CsvSource({
        "certificate-observed.json, dev.ctwatch.events.CertificateObserved",
        "certificate-discovered.json, dev.ctwatch.events.CertificateDiscovered",
        "certificate-audited.json, dev.ctwatch.events.CertificateAudited"
    })
    void payloadRoundTripsToItsGoldenFile(String file, Class<?> type) throws IOException {
        JsonNode golden = golden(file);
        Object event = EventJson.mapper().treeToValue(golden, type);
        // compare as parsed text, so a Long and an int of one value are the same JSON number
        JsonNode written = EventJson.mapper().readTree(EventJson.mapper().writeValueAsBytes(event));
        assertThat(written).isEqualTo(golden);
    }

    @Test
    void readersIgnoreFieldsAddedLater() throws IOException {
        ObjectNode withExtra = (ObjectNode) golden("certificate-observed.json");
        withExtra.put("fieldOfV1_1", "ignored");
        ((ObjectNode) withExtra.get("row")).put("crtsh_new_column", 7);
        CertificateObserved event = EventJson.mapper().treeToValue(withExtra, CertificateObserved.class);
        assertThat(event.row().id()).isEqualTo(3616206571L);
    }

    @Test
    void observedGoldenCarriesCrtShSpellingsVerbatim() throws IOException {
        CertificateObserved event =
                EventJson.mapper().treeToValue(golden("certificate-observed.json"), CertificateObserved.class);
        assertThat(event.row().serialNumber()).isEqualTo("03ffeea57322e24cd6fd207682f59ead324f");
        assertThat(event.row().issuanceKey()).hasToString("16418:3ffeea57322e24cd6fd207682f59ead324f");
        assertThat(CrtShRow.parseUtc(event.row().entryTimestamp()))
                .isEqualTo(Instant.parse("2020-11-07T16:46:43.456Z"));
        assertThat(event.matches()).extracting(WatchMatch::domain).containsExactly("lbapps.com");
        assertThat(event.matches().get(0).labels()).containsEntry("team", "payments");
    }

    @Test
    void kafkaSerdeRoundTripsAndRejectsGarbage() throws IOException {
        CertificateAudited audited =
                EventJson.mapper().treeToValue(golden("certificate-audited.json"), CertificateAudited.class);
        byte[] bytes = new EventSerializer<CertificateAudited>().serialize("t", audited);
        assertThat(new EventDeserializer.Audited().deserialize("t", bytes)).isEqualTo(audited);
        assertThatThrownBy(() -> new EventDeserializer.Audited().deserialize("t", "{not json".getBytes()))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not a valid CertificateAudited");
    }

    @Test
    void crtShTimestampsWithShortFractionsAreUtc() {
        assertThat(CrtShRow.parseUtc("2019-12-07T03:55:53.35")).isEqualTo(Instant.parse("2019-12-07T03:55:53.350Z"));
        assertThat(CrtShRow.parseUtc("2019-12-07T00:00:00")).isEqualTo(Instant.parse("2019-12-07T00:00:00Z"));
        assertThat(CrtShRow.parseUtc(null)).isNull();
    }

    private static JsonNode golden(String file) throws IOException {
        try (InputStream in = GoldenJsonTest.class.getResourceAsStream("/golden/" + file)) {
            assertThat(in).as("golden file %s", file).isNotNull();
            return EventJson.mapper().readTree(in);
        }
    }
}
