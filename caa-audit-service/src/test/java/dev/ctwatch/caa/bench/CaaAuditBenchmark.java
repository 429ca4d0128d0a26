package dev.ctwatch.caa.bench;

import dev.ctwatch.caa.dns.CaaCache;
import dev.ctwatch.caa.dns.CaaLookup;
import dev.ctwatch.caa.policy.CaaEvaluator;
import dev.ctwatch.events.CertificateAudited;
import dev.ctwatch.events.CertificateDiscovered;
import dev.ctwatch.events.CertificateIdentity;
import dev.ctwatch.events.IssuanceKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Audits per second against NSD, with a cold and a warm cache: certificates of 3 names
 * ({@code site-N.bench.test}, {@code www.} and {@code api.} below it), a third of the sites without
 * CAA of their own (the climb goes on to {@code bench.test}). Measures the evaluator with its DNS
 * cache, not Kafka or the database. Not a test: excluded by default, run as the README says.
 */
@Tag("benchmark")
class CaaAuditBenchmark {
    static final int SITES = 3000;
    static final int WARM_ROUNDS = 40;
    static final int IN_FLIGHT = 256;
    static final List<String> LE = List.of("letsencrypt.org");

    @Test
    void run() throws Exception {
        Path dir = Path.of("target", "bench-dns");
        Path zones = Path.of("target", "bench-zones");
        writeZones(zones);
        int port = freePort();
        exec("start", dir.toString(), String.valueOf(port), zones.toString());
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            CaaLookup lookup =
                    CaaLookup.create(Optional.of(List.of("127.0.0.1:" + port)), Duration.ofSeconds(2), 2, 16, executor);
            List<CertificateDiscovered> certificates = new ArrayList<>();
            for (int i = 0; i < SITES; i++) {
                certificates.add(certificate(i));
            }
            CaaCache cache =
                    new CaaCache(lookup, Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofMinutes(5), 1_000_000);
            CaaEvaluator evaluator = new CaaEvaluator(cache, Clock.systemUTC());

            // JIT warm-up on a separate cache and zone slice, so "cold" means a cold DNS cache only
            CaaCache warmupCache =
                    new CaaCache(lookup, Clock.systemUTC(), Duration.ofMinutes(5), Duration.ofMinutes(5), 1_000_000);
            measure(
                    "warm-up",
                    new CaaEvaluator(warmupCache, Clock.systemUTC()),
                    certificates.subList(0, 500),
                    20,
                    lookup);

            measure("cold cache", evaluator, certificates, 1, lookup);
            measure("warm cache", evaluator, certificates, WARM_ROUNDS, lookup);
        } finally {
            exec("stop", dir.toString());
            executor.shutdownNow();
        }
    }

    static void measure(
            String label, CaaEvaluator evaluator, List<CertificateDiscovered> certs, int rounds, CaaLookup lookup)
            throws InterruptedException {
        int total = certs.size() * rounds;
        long[] latencies = new long[total];
        Semaphore inFlight = new Semaphore(IN_FLIGHT);
        long queriesBefore = lookup.queries();
        List<CompletableFuture<CertificateAudited>> last = new ArrayList<>();
        long start = System.nanoTime();
        int k = 0;
        for (int r = 0; r < rounds; r++) {
            for (CertificateDiscovered cert : certs) {
                inFlight.acquire();
                int slot = k++;
                long t0 = System.nanoTime();
                CompletableFuture<CertificateAudited> f = evaluator
                        .audit(cert, LE)
                        .toCompletableFuture()
                        .whenComplete((a, e) -> {
                            latencies[slot] = System.nanoTime() - t0;
                            inFlight.release();
                        });
                if (r == rounds - 1 && slot % 1000 == 0) {
                    last.add(f);
                }
            }
        }
        inFlight.acquire(IN_FLIGHT);
        long elapsed = System.nanoTime() - start;
        last.forEach(CompletableFuture::join);
        Arrays.sort(latencies);
        System.out.printf(
                Locale.ROOT,
                "%-11s %8d audits in %6.2f s: %9.0f audits/s, %.2f DNS queries/audit, latency p50 %.3f ms,"
                        + " p99 %.3f ms%n",
                label,
                total,
                elapsed / 1e9,
                total / (elapsed / 1e9),
                (lookup.queries() - queriesBefore) / (double) total,
                latencies[total / 2] / 1e6,
                latencies[(int) (total * 0.99)] / 1e6);
    }

    static CertificateDiscovered certificate(int i) {
        String site = "site-" + i + ".bench.test";
        Instant now = Instant.now();
        CertificateIdentity identity = new CertificateIdentity(
                Integer.toHexString(i + 1),
                "CN=R11,O=Let's Encrypt,C=US",
                "CN=" + site,
                List.of(site, "www." + site, "api." + site),
                List.of(),
                now,
                now.plus(Duration.ofDays(90)),
                true,
                "aa",
                "bb",
                null);
        return new CertificateDiscovered(
                IssuanceKey.parse("1:" + Integer.toHexString(i + 1)),
                List.of((long) i),
                "C=US, O=Let's Encrypt, CN=R11",
                "AA==",
                identity,
                List.of(),
                false,
                null,
                now);
    }

    static void writeZones(Path zones) throws Exception {
        Files.createDirectories(zones);
        StringBuilder bench = new StringBuilder("$ORIGIN bench.test.\n$TTL 3600\n"
                + "@ IN SOA ns1.bench.test. hostmaster.bench.test. ( 1 3600 600 86400 3600 )\n"
                + "@ IN NS ns1.bench.test.\nns1 IN A 127.0.0.1\n@ IN CAA 0 issue \"letsencrypt.org\"\n");
        for (int i = 0; i < SITES; i++) {
            String site = "site-" + i;
            if (i % 3 != 0) {
                bench.append(site)
                        .append(" IN CAA 0 issue \"")
                        .append(i % 3 == 1 ? "letsencrypt.org" : "ca.example.net")
                        .append("\"\n");
            } else {
                bench.append(site).append(" IN A 127.0.0.1\n");
            }
            bench.append("www.").append(site).append(" IN A 127.0.0.1\n");
            bench.append("api.").append(site).append(" IN A 127.0.0.1\n");
        }
        Files.writeString(zones.resolve("bench.test.zone"), bench.toString(), StandardCharsets.US_ASCII);
        Files.writeString(
                zones.resolve("test.zone"),
                "$ORIGIN test.\n$TTL 3600\n@ IN SOA ns1.test. hostmaster.test. ( 1 3600 600 86400 3600 )\n"
                        + "@ IN NS ns1.test.\nns1 IN A 127.0.0.1\nbench IN NS ns1.test.\n");
    }

    static void exec(String... args) throws Exception {
        String[] command = new String[args.length + 2];
        command[0] = "bash";
        command[1] = Path.of("..", "deploy", "dns.sh").toString();
        System.arraycopy(args, 0, command, 2, args.length);
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("deploy/dns.sh " + args[0] + " failed");
        }
    }

    static int freePort() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
