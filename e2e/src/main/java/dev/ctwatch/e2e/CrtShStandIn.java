package dev.ctwatch.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local crt.sh: answers {@code /?Identity=<d>&output=json} and {@code /?d=<id>} from files, with
 * crt.sh's content types and its habit of answering bad input with 200 and HTML.
 *
 * <p>Data directory: {@code identity/<domain>.json} is the JSON answer for that identity (served
 * verbatim), {@code pem/<id>.pem} the certificate of a crt.sh id. JDK only, so it runs from plain
 * {@code java -cp}: {@code java -cp e2e/target/classes dev.ctwatch.e2e.CrtShStandIn PORT DIR}.
 */
public final class CrtShStandIn implements AutoCloseable {
    private final HttpServer server;
    private final Path data;
    private final Map<String, AtomicInteger> identityRequests = new ConcurrentHashMap<>();
    private final AtomicInteger downloads = new AtomicInteger();

    public CrtShStandIn(int port, Path data) throws IOException {
        this.data = data;
        // the JDK server writes headers and body apart; with Nagle on, each answer waits ~40 ms for
        // the client's delayed ACK, which real crt.sh does not make anyone wait
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: CrtShStandIn PORT DATA_DIR");
            System.exit(2);
        }
        CrtShStandIn standIn = new CrtShStandIn(Integer.parseInt(args[0]), Path.of(args[1]));
        System.out.println("crt.sh stand-in on " + standIn.url() + " serving " + args[1]);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** How many identity searches were made for a domain. */
    public int identityRequests(String domain) {
        AtomicInteger n = identityRequests.get(domain.toLowerCase(Locale.ROOT));
        return n == null ? 0 : n.get();
    }

    public int downloads() {
        return downloads.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Map<String, String> params = query(exchange.getRequestURI().getRawQuery());
            if (params.containsKey("d")) {
                downloads.incrementAndGet();
                download(exchange, params.get("d"));
            } else if (params.containsKey("identity")) {
                String domain = params.get("identity").toLowerCase(Locale.ROOT);
                identityRequests
                        .computeIfAbsent(domain, d -> new AtomicInteger())
                        .incrementAndGet();
                identity(exchange, domain, params.get("output"));
            } else {
                send(exchange, 200, "text/html; charset=UTF-8", "<html><body>crt.sh stand-in</body></html>");
            }
        }
    }

    private void download(HttpExchange exchange, String id) throws IOException {
        Path pem = data.resolve("pem").resolve(id + ".pem");
        if (!id.matches("\\d+") || !Files.isRegularFile(pem)) {
            send(exchange, 404, "text/plain", "");
            return;
        }
        exchange.getResponseHeaders().add("Content-Disposition", "attachment; filename=\"" + id + ".crt\"");
        send(exchange, 200, "application/pkix-cert", Files.readString(pem));
    }

    private void identity(HttpExchange exchange, String domain, String output) throws IOException {
        if (!"json".equalsIgnoreCase(output)) {
            send(exchange, 200, "text/html; charset=UTF-8", "<html><body>HTML output is not served here</body></html>");
            return;
        }
        if (domain.contains("%") || domain.contains("/")) {
            // crt.sh reports input errors as a 200 HTML page
            send(exchange, 200, "text/html; charset=UTF-8", "<html><body>Unsupported use of '%'</body></html>");
            return;
        }
        Path answer = data.resolve("identity").resolve(domain + ".json");
        send(exchange, 200, "application/json", Files.isRegularFile(answer) ? Files.readString(answer) : "[]");
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** crt.sh lower-cases parameter names and keeps the first occurrence of each. */
    private static Map<String, String> query(String raw) {
        Map<String, String> params = new HashMap<>();
        if (raw == null) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.putIfAbsent(name.toLowerCase(Locale.ROOT), value);
        }
        return params;
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
