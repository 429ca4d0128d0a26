package dev.ctwatch.fetcher;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ctwatch.events.CrtShRow;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * An in-test crt.sh whose answers depend on the first label of the Identity searched: the
 * scenario. Most scenarios fail once in their own way, then answer like crt.sh does.
 *
 * <ul>
 *   <li>{@code ok}: three matching rows (and one look-alike crt.sh also returns)
 *   <li>{@code limited}: 429 without Retry-After; {@code retry-after}: 429 with {@code Retry-After: 1}
 *   <li>{@code gateway}: 502 HTML; {@code plain503}: 503 {@code text/plain} "ERROR"
 *   <li>{@code slow}: headers only after twice the fetcher's response timeout; {@code reset}: connection
 *       dropped in the middle of the body
 *   <li>{@code cut}: 200 JSON cut off after the first row
 *   <li>{@code html}: always 200 with an HTML error page
 *   <li>{@code capped}: 100 rows adding up to 10,000 identity rows (crt.sh's silent cap)
 *   <li>{@code huge}: 200,000 rows, generated while they are sent
 * </ul>
 */
public final class CrtShFake implements AutoCloseable {

    /** One request as the fake received it. */
    public record Request(Instant at, URI uri, Map<String, String> params, Map<String, List<String>> headers) {}

    private final HttpServer server;
    private final Map<String, List<Request>> requests = new ConcurrentHashMap<>();

    public CrtShFake() throws IOException {
        // the JDK server writes headers and body apart; with Nagle on, each answer waits ~40 ms for
        // the client's delayed ACK, which real crt.sh does not make anyone wait
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Requests for one scenario, in order. */
    public List<Request> requests(String scenario) {
        return List.copyOf(requests.getOrDefault(scenario, List.of()));
    }

    private void handle(HttpExchange exchange) throws IOException {
        Map<String, String> params = query(exchange.getRequestURI().getRawQuery());
        String domain = params.getOrDefault("identity", "");
        String scenario = domain.contains(".") ? domain.substring(0, domain.indexOf('.')) : domain;
        List<Request> seen = requests.computeIfAbsent(scenario, s -> new CopyOnWriteArrayList<>());
        seen.add(new Request(
                Instant.now(), exchange.getRequestURI(), params, new LinkedHashMap<>(exchange.getRequestHeaders())));
        boolean first = seen.size() == 1;
        try (exchange) {
            switch (scenario) {
                case "limited" -> {
                    if (first) {
                        send(exchange, 429, "text/html", "<html>429 Too Many Requests</html>");
                        return;
                    }
                }
                case "retry-after" -> {
                    if (first) {
                        exchange.getResponseHeaders().set("Retry-After", "1");
                        send(exchange, 429, "text/html", "<html>429 Too Many Requests</html>");
                        return;
                    }
                }
                case "gateway" -> {
                    if (first) {
                        send(exchange, 502, "text/html", "<html>502 Bad Gateway</html>");
                        return;
                    }
                }
                case "plain503" -> {
                    if (first) {
                        send(exchange, 503, "text/plain", "ERROR");
                        return;
                    }
                }
                case "slow" -> {
                    if (first) {
                        sleep(FetcherTestResource.RESPONSE_TIMEOUT
                                .multipliedBy(2)
                                .toMillis());
                    }
                }
                case "reset" -> {
                    if (first) {
                        // announces a body, sends part of it and drops the connection
                        exchange.getResponseHeaders().set("Content-Type", "application/json");
                        exchange.sendResponseHeaders(200, 100_000);
                        exchange.getResponseBody()
                                .write(rows(domain, 1, 1).substring(0, 50).getBytes());
                        exchange.getResponseBody().flush();
                        return;
                    }
                }
                case "cut" -> {
                    if (first) {
                        exchange.getResponseHeaders().set("Content-Type", "application/json");
                        exchange.sendResponseHeaders(200, 0);
                        String body = rows(domain, 3, 1);
                        exchange.getResponseBody()
                                .write(body.substring(0, body.indexOf("},{") + 10)
                                        .getBytes());
                        return;
                    }
                }
                case "html" -> {
                    send(exchange, 200, "text/html; charset=UTF-8", "<html><body>Unsupported use of '%'</body></html>");
                    return;
                }
                case "capped" -> {
                    send(exchange, 200, "application/json", rows(domain, 100, 100));
                    return;
                }
                case "huge" -> {
                    streamRows(exchange, domain, 200_000);
                    return;
                }
                default -> {}
            }
            send(exchange, 200, "application/json", rows(domain, 3, 1));
        }
    }

    /** Rows for {@code www.<domain>}, ids and serials distinct per domain, plus a look-alike. */
    static String rows(String domain, int count, int resultCount) {
        StringBuilder json = new StringBuilder("[");
        long base = idBase(domain);
        for (int i = 0; i < count; i++) {
            json.append(i == 0 ? "" : ",").append(row(domain, base + i, resultCount));
        }
        return json.append(",")
                .append(row("not" + domain, base + count, 0))
                .append("]")
                .toString();
    }

    static void streamRows(HttpExchange exchange, String domain, int count) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, 0);
        long base = idBase(domain);
        try (Writer out =
                new BufferedWriter(new OutputStreamWriter(exchange.getResponseBody(), StandardCharsets.UTF_8))) {
            out.write('[');
            for (int i = 0; i < count; i++) {
                out.write(i == 0 ? "" : ",");
                out.write(row(domain, base + i, 0));
            }
            out.write(']');
        }
    }

    static long idBase(String domain) {
        return 10_000_000_000L + (long) (domain.hashCode() & 0x7fff) * 1_000_000L;
    }

    /** A row in crt.sh's current shape, with an unknown field and a null entry_timestamp now and then. */
    static String row(String domain, long id, int resultCount) {
        return "{\"issuer_ca_id\":183267,\"issuer_name\":\"C=US, O=Let's Encrypt, CN=R11\",\"common_name\":\"www."
                + domain + "\",\"name_value\":\"www." + domain + "\\n" + domain + "\",\"id\":" + id
                + ",\"entry_timestamp\":" + (id % 7 == 0 ? "null" : "\"2026-03-01T10:15:30.35\"")
                + ",\"not_before\":\"2026-03-01T09:15:30\",\"not_after\":\"2026-05-30T09:15:29\","
                + "\"serial_number\":\"00" + Long.toHexString(0x8000000000000L + id) + "\",\"result_count\":"
                + resultCount + ",\"future_field\":{\"x\":[1,2]}}";
    }

    /** The record {@link #row} describes, built without JSON (the benchmark's raw producer side). */
    static CrtShRow rowRecord(String domain, long id) {
        return new CrtShRow(
                id,
                183267L,
                "C=US, O=Let's Encrypt, CN=R11",
                "www." + domain,
                "www." + domain + "\n" + domain,
                id % 7 == 0 ? null : "2026-03-01T10:15:30.35",
                "2026-03-01T09:15:30",
                "2026-05-30T09:15:29",
                "00" + Long.toHexString(0x8000000000000L + id),
                0);
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> params = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                params.putIfAbsent(
                        name.toLowerCase(Locale.ROOT),
                        eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return params;
    }

    @Override
    public void close() {
        server.stop(0);
    }

    static List<String> scenarios() {
        return new ArrayList<>(List.of(
                "ok",
                "limited",
                "retry-after",
                "gateway",
                "plain503",
                "slow",
                "reset",
                "cut",
                "html",
                "capped",
                "huge"));
    }
}
