package dev.ctwatch.caa.issuer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Issuer of a certificate → the CAA identities its CA recognises, from the shipped {@code
 * issuer-caa-map.json} (an extract of CCADB's CAA identifiers) plus configured overrides. Lookup
 * order: Authority Key Identifier, issuer {@code O=}, issuer {@code CN=}; an override for any of
 * these keys wins over the map. Empty means unknown: no finding can be made.
 */
public final class IssuerCaaMap {
    public static final String RESOURCE = "issuer-caa-map.json";

    private final Map<String, List<String>> bySki;
    private final Map<String, List<String>> byOrganization;
    private final Map<String, List<String>> byCommonName;
    private final Map<String, List<String>> overrides;

    private IssuerCaaMap(
            Map<String, List<String>> bySki,
            Map<String, List<String>> byOrganization,
            Map<String, List<String>> byCommonName,
            Map<String, List<String>> overrides) {
        this.bySki = bySki;
        this.byOrganization = byOrganization;
        this.byCommonName = byCommonName;
        this.overrides = overrides;
    }

    /** The shipped map with these overrides (key: AKI hex, O= or CN= value). */
    public static IssuerCaaMap fromClasspath(Map<String, List<String>> overrides) {
        try (InputStream in = IssuerCaaMap.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            return parse(in, overrides);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    public static IssuerCaaMap parse(InputStream json, Map<String, List<String>> overrides) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        Map<String, List<String>> owners = new HashMap<>();
        root.path("owners").fields().forEachRemaining(e -> {
            Set<String> ids = new LinkedHashSet<>();
            e.getValue().path("caa_identities").forEach(i -> ids.add(normalize(i.asText())));
            // reported by some sources only: accepting them costs a missed finding, not a false alarm
            e.getValue().path("caa_identities_possible").forEach(i -> ids.add(normalize(i.asText())));
            owners.put(e.getKey(), List.copyOf(ids));
        });
        Map<String, List<String>> bySki = new HashMap<>();
        root.path("by_ski")
                .fields()
                .forEachRemaining(e -> bySki.put(
                        normalizeKeyId(e.getKey()),
                        identitiesOf(owners, List.of(e.getValue().path("owner").asText()))));
        return new IssuerCaaMap(
                bySki,
                index(root.path("by_issuer_organization"), owners),
                index(root.path("by_issuer_cn"), owners),
                normalizeOverrides(overrides));
    }

    /**
     * The CAA identities (lower-case) of the certificate's issuer, or an empty list when unknown.
     *
     * @param authorityKeyId the certificate's AKI as hex (colons allowed), or null
     * @param issuerDn the issuer DN in RFC 2253 or OpenSSL one-line form, or null
     */
    public List<String> identities(String authorityKeyId, String issuerDn) {
        String ski = authorityKeyId == null ? null : normalizeKeyId(authorityKeyId);
        Map<String, String> dn = issuerDn == null ? Map.of() : dnAttributes(issuerDn);
        String organization = dn.get("O");
        String commonName = dn.get("CN");
        for (String key : new String[] {ski, organization, commonName}) {
            if (key != null && overrides.containsKey(key)) {
                return overrides.get(key);
            }
        }
        if (ski != null && bySki.containsKey(ski)) {
            return bySki.get(ski);
        }
        if (organization != null && byOrganization.containsKey(organization)) {
            return byOrganization.get(organization);
        }
        if (commonName != null && byCommonName.containsKey(commonName)) {
            return byCommonName.get(commonName);
        }
        return List.of();
    }

    /**
     * The first value of each attribute type of a DN, types upper-cased. Accepts RFC 2253 ({@code
     * CN=R3,O=Let's Encrypt,C=US}), {@code X500Principal.toString()} and OpenSSL's one-line form
     * ({@code C = US, O = "Trustwave Holdings, Inc."}), with quoted values and backslash escapes.
     */
    static Map<String, String> dnAttributes(String dn) {
        Map<String, String> attributes = new LinkedHashMap<>();
        for (String rdn : splitUnquoted(dn)) {
            int eq = rdn.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String type = rdn.substring(0, eq).strip().toUpperCase(Locale.ROOT);
            attributes.putIfAbsent(type, unquote(rdn.substring(eq + 1).strip()));
        }
        return attributes;
    }

    private static List<String> splitUnquoted(String dn) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < dn.length(); i++) {
            char c = dn.charAt(i);
            if (c == '\\' && i + 1 < dn.length()) {
                current.append(c).append(dn.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                current.append(c);
            } else if (!quoted && (c == ',' || c == ';' || c == '+')) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        parts.add(current.toString());
        return parts;
    }

    private static String unquote(String value) {
        String v = value;
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 1 < v.length()) {
                c = v.charAt(++i);
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static Map<String, List<String>> index(JsonNode node, Map<String, List<String>> owners) {
        Map<String, List<String>> index = new HashMap<>();
        node.fields().forEachRemaining(e -> {
            List<String> ownerIds = new ArrayList<>();
            if (e.getValue().isArray()) {
                e.getValue().forEach(o -> ownerIds.add(o.asText()));
            } else {
                ownerIds.add(e.getValue().asText());
            }
            index.put(e.getKey(), identitiesOf(owners, ownerIds));
        });
        return index;
    }

    private static List<String> identitiesOf(Map<String, List<String>> owners, List<String> ownerIds) {
        Set<String> ids = new LinkedHashSet<>();
        for (String owner : ownerIds) {
            List<String> known = owners.get(owner);
            if (known == null) {
                throw new IllegalArgumentException(RESOURCE + " refers to an unknown owner '" + owner + "'");
            }
            ids.addAll(known);
        }
        return List.copyOf(ids);
    }

    private static Map<String, List<String>> normalizeOverrides(Map<String, List<String>> overrides) {
        Map<String, List<String>> result = new HashMap<>();
        if (overrides != null) {
            overrides.forEach((key, ids) -> {
                List<String> normalized = ids.stream()
                        .map(IssuerCaaMap::normalize)
                        .filter(i -> !i.isEmpty())
                        .distinct()
                        .toList();
                // an AKI may be configured with colons or in upper case
                result.put(key.matches("[0-9A-Fa-f:]+") ? normalizeKeyId(key) : key, normalized);
            });
        }
        return result;
    }

    private static String normalize(String identity) {
        return identity.strip().toLowerCase(Locale.ROOT);
    }

    private static String normalizeKeyId(String keyId) {
        return keyId.strip().replace(":", "").toLowerCase(Locale.ROOT);
    }
}
