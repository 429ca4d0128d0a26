package dev.ctwatch.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JSON Schemas in {@code src/main/resources/schemas} describe the wire format the records
 * produce: every golden file validates, removing any required field does not, and each schema
 * object lists exactly the properties Jackson writes for its record.
 */
class SchemaContractTest {

    private static final String BASE = "https://ctwatch.dev/schemas/";
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(
            SpecVersion.VersionFlag.V202012,
            builder -> builder.schemaMappers(mappers -> mappers.mapPrefix(BASE, "classpath:schemas/")));
    private static final SchemaValidatorsConfig CONFIG =
            SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();

    @ParameterizedTest
    @CsvSource({"certificate-observed", "certificate-discovered", "certificate-audited"})
    void goldenFileMatchesItsSchema(String name) throws IOException {
        assertThat(validate(name, golden(name))).isEmpty();
    }

    static Stream<Arguments> requiredFields() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (String name : List.of("certificate-observed", "certificate-discovered", "certificate-audited")) {
            collectRequired(name, schemaJson(name), golden(name), "", cases);
        }
        return cases.stream();
    }

    /** Every required property of every object in the golden file, found by walking both trees. */
    private static void collectRequired(
            String name, JsonNode schemaRoot, JsonNode node, String path, List<Arguments> out) throws IOException {
        if (!node.isObject()) {
            return;
        }
        JsonNode schema = objectSchemaAt(name, schemaRoot, path);
        for (JsonNode required : schema.path("required")) {
            out.add(Arguments.of(name, path + "/" + required.asText()));
        }
        for (var it = node.fields(); it.hasNext(); ) {
            var field = it.next();
            JsonNode child = field.getValue();
            if (child.isObject() && schema.path("properties").has(field.getKey())) {
                collectRequired(name, schemaRoot, child, path + "/" + field.getKey(), out);
            } else if (child.isArray() && !child.isEmpty() && child.get(0).isObject()) {
                collectRequired(name, schemaRoot, child.get(0), path + "/" + field.getKey() + "/0", out);
            }
        }
    }

    @ParameterizedTest(name = "{0} without {1}")
    @MethodSource("requiredFields")
    void removingARequiredFieldFailsValidation(String name, String pointer) throws IOException {
        JsonNode event = golden(name);
        int slash = pointer.lastIndexOf('/');
        JsonNode parent = slash == 0 ? event : event.at(pointer.substring(0, slash));
        assertThat(parent.isObject()).as(pointer).isTrue();
        ((ObjectNode) parent).remove(pointer.substring(slash + 1));
        assertThat(validate(name, event))
                .as("validation of %s without %s", name, pointer)
                .isNotEmpty()
                .anySatisfy(m -> assertThat(m.getMessage()).contains(pointer.substring(slash + 1)));
    }

    @Test
    void thereAreRequiredFieldsAtEveryLevel() throws IOException {
        List<String> pointers =
                requiredFields().map(a -> a.get()[0] + a.get()[1].toString()).toList();
        assertThat(pointers)
                .contains(
                        "certificate-observed/row/serial_number",
                        "certificate-observed/matches/0/domain",
                        "certificate-discovered/identity/tbsSha256",
                        "certificate-audited/certificate/key",
                        "certificate-audited/names/0/outcome",
                        "certificate-audited/finding/evidence");
    }

    @Test
    void additiveChangesStayValidAndWrongValuesDoNot() throws IOException {
        ObjectNode audited = (ObjectNode) golden("certificate-audited");
        audited.put("fieldOfV1_2", "readers ignore it");
        assertThat(validate("certificate-audited", audited)).isEmpty();

        ObjectNode badVerdict = (ObjectNode) golden("certificate-audited");
        badVerdict.put("verdict", "GUILTY");
        assertThat(validate("certificate-audited", badVerdict)).isNotEmpty();

        ObjectNode leadingZero = (ObjectNode) golden("certificate-discovered");
        leadingZero.put("key", "16418:03ffeea57322e24cd6fd207682f59ead324f");
        assertThat(validate("certificate-discovered", leadingZero)).isNotEmpty();

        ObjectNode badInstant = (ObjectNode) golden("certificate-observed");
        badInstant.put("fetchedAt", "yesterday");
        assertThat(validate("certificate-observed", badInstant)).isNotEmpty();

        ObjectNode nullAnomaly = (ObjectNode) golden("certificate-discovered");
        ObjectNode anomaly = nullAnomaly.putObject("anomaly");
        anomaly.put("kind", "SERIAL_REUSE").put("detail", "same serial, other TBS hash");
        assertThat(validate("certificate-discovered", nullAnomaly)).isEmpty();
        anomaly.put("kind", "SOMETHING");
        assertThat(validate("certificate-discovered", nullAnomaly)).isNotEmpty();
    }

    @ParameterizedTest
    @CsvSource({
        "certificate-observed, '', dev.ctwatch.events.CertificateObserved",
        "certificate-observed, /$defs/CrtShRow, dev.ctwatch.events.CrtShRow",
        "certificate-observed, /$defs/WatchMatch, dev.ctwatch.events.WatchMatch",
        "certificate-discovered, '', dev.ctwatch.events.CertificateDiscovered",
        "certificate-discovered, /$defs/CertificateIdentity, dev.ctwatch.events.CertificateIdentity",
        "certificate-discovered, /properties/anomaly/oneOf/1, dev.ctwatch.events.Anomaly",
        "certificate-audited, '', dev.ctwatch.events.CertificateAudited",
        "certificate-audited, /$defs/NameAudit, dev.ctwatch.events.NameAudit",
        "certificate-audited, /$defs/Finding, dev.ctwatch.events.Finding"
    })
    void schemaListsExactlyThePropertiesOfItsRecord(String name, String pointer, Class<?> type) throws IOException {
        JsonNode schema = schemaJson(name).at(pointer);
        Set<String> inSchema = new TreeSet<>();
        schema.path("properties").fieldNames().forEachRemaining(inSchema::add);
        BeanDescription description = EventJson.mapper()
                .getSerializationConfig()
                .introspect(EventJson.mapper().constructType(type));
        Set<String> written = description.findProperties().stream()
                .map(BeanPropertyDefinition::getName)
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(inSchema)
                .as("%s%s vs %s", name, pointer, type.getSimpleName())
                .isEqualTo(written);
        assertThat(schema.path("additionalProperties").asBoolean(true))
                .as("additional properties allowed (forward compatibility)")
                .isTrue();
    }

    // ---------------------------------------------------------------------------------------------

    private static Set<ValidationMessage> validate(String name, JsonNode event) {
        JsonSchema schema = FACTORY.getSchema(SchemaLocation.of(BASE + name + ".v1.schema.json"), CONFIG);
        return schema.validate(event);
    }

    /** The schema object describing the JSON object at {@code path} (array indexes skipped). */
    private static JsonNode objectSchemaAt(String name, JsonNode root, String path) throws IOException {
        JsonNode schema = root;
        String file = name;
        for (String step : path.split("/")) {
            if (step.isEmpty() || step.chars().allMatch(Character::isDigit)) {
                continue;
            }
            schema = schema.path("properties").path(step);
            if (schema.has("items")) {
                schema = schema.path("items");
            }
            // follow $ref (same file or another schema file) and oneOf [null, object]
            while (true) {
                if (schema.has("oneOf")) {
                    schema = ((ArrayNode) schema.path("oneOf")).get(1);
                } else if (schema.has("$ref")) {
                    String ref = schema.path("$ref").asText();
                    int hash = ref.indexOf('#');
                    String target = hash < 0 ? ref : ref.substring(0, hash);
                    if (!target.isEmpty()) {
                        file = target.replace(".v1.schema.json", "");
                    }
                    JsonNode targetRoot = schemaJson(file);
                    root = targetRoot;
                    schema = hash < 0 ? targetRoot : targetRoot.at(ref.substring(hash + 1));
                } else {
                    break;
                }
            }
        }
        return schema;
    }

    private static JsonNode schemaJson(String name) throws IOException {
        return read("/schemas/" + name + ".v1.schema.json");
    }

    private static JsonNode golden(String name) throws IOException {
        return read("/golden/" + name + ".json");
    }

    private static JsonNode read(String resource) throws IOException {
        try (InputStream in = SchemaContractTest.class.getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            return EventJson.mapper().readTree(in);
        }
    }
}
