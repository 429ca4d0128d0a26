package dev.ctwatch.fetcher.watchlist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads watch entries from a mounted file. YAML and JSON hold a list of entries, or an object with
 * a {@code watchlist} list; each entry has {@code domain}, optional {@code include-subdomains} and
 * {@code labels}. A properties file uses the configuration's keys, with or without {@code fetcher.}:
 * {@code watchlist[0].domain=example.com}, {@code watchlist[0].labels.team=pki}.
 */
public final class WatchlistFile {
    private static final Pattern KEY =
            Pattern.compile("(?:fetcher\\.)?watchlist\\[(\\d+)]\\.(domain|include-subdomains|labels\\.(.+))");

    private WatchlistFile() {}

    /** The entries of the file; anything invalid throws with the file and the entry named. */
    public static List<WatchEntry> read(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            return name.endsWith(".properties") ? fromProperties(file) : fromTree(file, name.endsWith(".json"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("watchlist file " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<WatchEntry> fromTree(Path file, boolean json) throws IOException {
        ObjectMapper mapper = json ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
        JsonNode root = mapper.readTree(file.toFile());
        JsonNode list = root != null && root.isObject() ? root.get("watchlist") : root;
        if (list == null || list.isNull()) {
            return List.of();
        }
        if (!list.isArray()) {
            throw new IllegalArgumentException("expected a list of entries or an object with a 'watchlist' list");
        }
        List<WatchEntry> entries = new ArrayList<>();
        for (JsonNode node : list) {
            if (node.isTextual()) {
                entries.add(new WatchEntry(node.asText(), true, Map.of()));
                continue;
            }
            JsonNode domain = node.get("domain");
            if (domain == null || !domain.isTextual()) {
                throw new IllegalArgumentException("entry without a domain: " + node);
            }
            JsonNode sub = node.get("include-subdomains");
            Map<String, String> labels = new LinkedHashMap<>();
            JsonNode labelNode = node.get("labels");
            if (labelNode != null && labelNode.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = labelNode.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> label = it.next();
                    labels.put(label.getKey(), label.getValue().asText());
                }
            }
            entries.add(new WatchEntry(domain.asText(), sub == null || sub.asBoolean(true), labels));
        }
        return entries;
    }

    private static List<WatchEntry> fromProperties(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(in);
        }
        Map<Integer, String> domains = new TreeMap<>();
        Map<Integer, Boolean> subdomains = new TreeMap<>();
        Map<Integer, Map<String, String>> labels = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            Matcher m = KEY.matcher(key);
            if (!m.matches()) {
                throw new IllegalArgumentException("unknown key '" + key + "'");
            }
            int index = Integer.parseInt(m.group(1));
            String value = properties.getProperty(key).strip();
            if (m.group(3) != null) {
                labels.computeIfAbsent(index, i -> new LinkedHashMap<>()).put(m.group(3), value);
            } else if (m.group(2).equals("domain")) {
                domains.put(index, value);
            } else {
                subdomains.put(index, Boolean.parseBoolean(value));
            }
        }
        List<WatchEntry> entries = new ArrayList<>();
        for (Map.Entry<Integer, String> d : domains.entrySet()) {
            entries.add(
                    new WatchEntry(d.getValue(), subdomains.getOrDefault(d.getKey(), true), labels.get(d.getKey())));
        }
        if (!labels.keySet().stream().allMatch(domains::containsKey)
                || !subdomains.keySet().stream().allMatch(domains::containsKey)) {
            throw new IllegalArgumentException("an entry has labels or include-subdomains but no domain");
        }
        return entries;
    }
}
