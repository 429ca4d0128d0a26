package dev.ctwatch.notifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.EventJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/** Audited certificates for tests, from the golden wire format with chosen fields replaced. */
public final class Samples {
    private Samples() {}

    /** The golden record (a possible CAA non-compliance), edited on its JSON tree first. */
    public static CertificateAudited audited(Consumer<ObjectNode> edit) {
        try (InputStream in = Samples.class.getResourceAsStream("/golden/certificate-audited.json")) {
            ObjectNode root = (ObjectNode) EventJson.mapper().readTree(in);
            edit.accept(root);
            return EventJson.mapper().treeToValue(root, CertificateAudited.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static CertificateAudited golden() {
        return audited(root -> {});
    }

    /** The golden record with another issuance key (serial) and another DNS name everywhere. */
    public static CertificateAudited withKeyAndName(String serialHex, String name) {
        return audited(root -> {
            ObjectNode certificate = (ObjectNode) root.get("certificate");
            certificate.put("key", "16418:" + serialHex);
            ObjectNode identity = (ObjectNode) certificate.get("identity");
            identity.put("serialHex", serialHex);
            identity.put("subjectDn", "CN=" + name);
            names(identity).removeAll().add(name);
            ((ObjectNode) root.get("names").get(0)).put("name", name);
            names((ObjectNode) root.get("finding")).removeAll().add(name);
        });
    }

    /** A compliant new certificate (no finding) with the given serial, name, watch entry and labels. */
    public static CertificateAudited newCertificate(
            String serialHex, String name, String watched, boolean backfill, String... labels) {
        CertificateAudited base = withKeyAndName(serialHex, name);
        return audited(root -> {
            ObjectNode fresh = EventJson.mapper().valueToTree(base);
            root.setAll(fresh);
            root.put("verdict", "COMPLIANT");
            root.putNull("finding");
            ((ObjectNode) root.at("/names/0"))
                    .put("outcome", "PERMITTED")
                    .put("detail", "issue property authorises it");
            ((ArrayNode) root.at("/names/0/records")).removeAll().add("0 issue \"letsencrypt.org\"");
            ObjectNode certificate = (ObjectNode) root.get("certificate");
            certificate.put("backfill", backfill);
            ObjectNode match =
                    ((ArrayNode) certificate.get("matches")).removeAll().addObject();
            match.put("domain", watched).put("includeSubdomains", true);
            ObjectNode labelNode = match.putObject("labels");
            for (int i = 0; i + 1 < labels.length; i += 2) {
                labelNode.put(labels[i], labels[i + 1]);
            }
        });
    }

    /** The same event as a finding (possible CAA non-compliance) for its first name. */
    public static CertificateAudited asFinding(CertificateAudited certificate) {
        CertificateAudited golden = golden();
        String name = certificate.certificate().identity().dnsNames().get(0);
        return audited(root -> {
            root.setAll((ObjectNode) EventJson.mapper().valueToTree(certificate));
            root.put("verdict", "POSSIBLE_NON_COMPLIANCE");
            root.set("finding", EventJson.mapper().valueToTree(golden.finding()));
            names((ObjectNode) root.get("finding")).removeAll().add(name);
            root.set("names", EventJson.mapper().valueToTree(golden.names()));
            ((ObjectNode) root.at("/names/0")).put("name", name);
        });
    }

    /**
     * What dedup emits for a serial reuse of {@code first}: the same issuance key, another TBS
     * hash, the anomaly; CAA-compliant, so a message is about the reuse alone.
     */
    public static CertificateAudited serialReuseOf(CertificateAudited first, String tbsSha256) {
        return audited(root -> {
            root.setAll((ObjectNode) EventJson.mapper().valueToTree(first));
            ObjectNode certificate = (ObjectNode) root.get("certificate");
            ((ObjectNode) certificate.get("identity")).put("tbsSha256", tbsSha256);
            certificate.putObject("anomaly").put("kind", "SERIAL_REUSE").put("detail", "another TBSCertificate");
            root.put("verdict", "COMPLIANT");
            root.putNull("finding");
        });
    }

    private static ArrayNode names(ObjectNode node) {
        JsonNode names = node.has("dnsNames") ? node.get("dnsNames") : node.get("forbiddenNames");
        return (ArrayNode) names;
    }
}
